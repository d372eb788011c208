#include "swarm/swarm_session.hpp"

#include "cli/outcome.hpp"
#include "sip/host_port.hpp"

#include <fmt/format.h>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/extensions.hpp>
#include <libtorrent/peer_connection_handle.hpp>
#include <libtorrent/peer_class.hpp>
#include <libtorrent/peer_info.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/settings_pack.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <set>

namespace imsp2p::swarm {
namespace {

std::atomic<bool> stop_flag{false};

void on_stop_signal(int) { stop_flag = true; }

std::string endpoint_text(const lt::tcp::endpoint& endpoint)
{
    const auto address = endpoint.address();
    return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                           : fmt::format("{}:{}", address.to_string(), endpoint.port());
}

} // namespace

void catch_stop_signals()
{
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
}

bool stop_requested() { return stop_flag; }

lt::tcp::endpoint parse_peer(const std::string& text, const std::string& what)
{
    const auto host_port = sip::parse_host_port(text, what);
    if (host_port.port == 0)
        throw Failure(Outcome::usage, fmt::format("invalid {} '{}': give ADDRESS:PORT", what, text));
    return lt::tcp::endpoint(lt::make_address(host_port.host), static_cast<std::uint16_t>(host_port.port));
}

std::unique_ptr<lt::session> open_session(const std::string& listen, const std::string& what, const SessionTuning& tuning)
{
    // Port 0 (any free port) is fine here, unlike for SIP addresses.
    auto host_port = listen.ends_with(":0") ? sip::parse_host_port(listen.substr(0, listen.size() - 2), what)
                                            : sip::parse_host_port(listen, what);
    if (host_port.port == 0 && !listen.ends_with(":0"))
        throw Failure(Outcome::usage, fmt::format("invalid {} '{}': give ADDRESS:PORT (port 0: any)", what, listen));
    const std::string host = host_port.host.find(':') != std::string::npos ? "[" + host_port.host + "]" : host_port.host;
    lt::settings_pack settings;
    settings.set_str(lt::settings_pack::listen_interfaces, fmt::format("{}:{}", host, host_port.port));
    settings.set_str(lt::settings_pack::outgoing_interfaces, host_port.host);
    settings.set_bool(lt::settings_pack::enable_dht, false);
    settings.set_bool(lt::settings_pack::enable_lsd, false);
    settings.set_bool(lt::settings_pack::enable_upnp, false);
    settings.set_bool(lt::settings_pack::enable_natpmp, false);
    // TCP only: the Debian transmission peers of the tests run without uTP.
    settings.set_bool(lt::settings_pack::enable_incoming_utp, false);
    settings.set_bool(lt::settings_pack::enable_outgoing_utp, false);
    settings.set_bool(lt::settings_pack::allow_multiple_connections_per_ip, true);
    settings.set_bool(lt::settings_pack::announce_to_all_trackers, true);
    settings.set_bool(lt::settings_pack::announce_to_all_tiers, true);
    settings.set_str(lt::settings_pack::user_agent, "imsp2p-swarm");
    if (tuning.upload_slots > 0) {
        settings.set_int(lt::settings_pack::unchoke_slots_limit, tuning.upload_slots);
        // Unchoke peers that just started or are about to finish: peers in the
        // middle of the download are left to trade with each other.
        settings.set_int(lt::settings_pack::seed_choking_algorithm, lt::settings_pack::anti_leech);
    }
    settings.set_int(lt::settings_pack::alert_mask,
                     static_cast<int>(static_cast<std::uint32_t>(lt::alert_category::error | lt::alert_category::status |
                                                                 lt::alert_category::storage |
                                                                 lt::alert_category::tracker)));
    auto session = std::make_unique<lt::session>(lt::session_params(std::move(settings)));
    if (tuning.upload_slots > 0) {
        // libtorrent unchokes peers of the local network (loopback and LAN
        // included) beyond the slots: with the seeder uploading to every peer at
        // once, peers take the whole file from it rather than from each other.
        auto local = session->get_peer_class(lt::session::local_peer_class_id);
        local.ignore_unchoke_slots = false;
        session->set_peer_class(lt::session::local_peer_class_id, local);
    }

    // Wait (bounded) for the listen socket, so a taken port fails here, precisely.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        session->wait_for_alert(std::chrono::milliseconds(100));
        std::vector<lt::alert*> alerts;
        session->pop_alerts(&alerts);
        for (const auto* alert : alerts) {
            if (const auto* failed = lt::alert_cast<lt::listen_failed_alert>(alert))
                throw Failure(Outcome::local, fmt::format("cannot listen on {}: {}", listen, failed->error.message()));
            if (lt::alert_cast<lt::listen_succeeded_alert>(alert))
                return session;
        }
    }
    throw Failure(Outcome::local, fmt::format("cannot listen on {}: no listen socket after 5 s", listen));
}

int listening_port(lt::session& session) { return session.listen_port(); }

struct PeerLedgerClosed {
    struct Connection {
        std::string endpoint;
        std::string address;
        std::string client;
        std::int64_t uploaded = 0;
        std::int64_t downloaded = 0;
    };
    std::mutex mutex;
    std::vector<Connection> connections;
};

namespace {

// Runs on libtorrent's network thread: hands the closing connection's final
// counts to the ledger.
class ClosingWatch final : public lt::peer_plugin {
public:
    ClosingWatch(lt::peer_connection_handle handle, std::shared_ptr<PeerLedgerClosed> closed)
        : handle_(std::move(handle)), closed_(std::move(closed))
    {
    }
    void on_disconnect(const lt::error_code&) override
    {
        lt::peer_info info;
        handle_.get_peer_info(info);
        std::lock_guard lock(closed_->mutex);
        closed_->connections.push_back({endpoint_text(info.ip), info.ip.address().to_string(), info.client,
                                        info.total_upload, info.total_download});
    }

private:
    lt::peer_connection_handle handle_;
    std::shared_ptr<PeerLedgerClosed> closed_;
};

class ClosingWatchPlugin final : public lt::torrent_plugin {
public:
    explicit ClosingWatchPlugin(std::shared_ptr<PeerLedgerClosed> closed) : closed_(std::move(closed)) {}
    std::shared_ptr<lt::peer_plugin> new_connection(const lt::peer_connection_handle& handle) override
    {
        return std::make_shared<ClosingWatch>(handle, closed_);
    }

private:
    std::shared_ptr<PeerLedgerClosed> closed_;
};

} // namespace

PeerLedger::PeerLedger() : closed_(std::make_shared<PeerLedgerClosed>()) {}

void PeerLedger::attach(const lt::torrent_handle& handle)
{
    auto closed = closed_;
    lt::torrent_handle(handle).add_extension([closed](const lt::torrent_handle&, lt::client_data_t) -> std::shared_ptr<lt::torrent_plugin> {
        return std::make_shared<ClosingWatchPlugin>(closed);
    });
}

void PeerLedger::update(const lt::torrent_handle& handle)
{
    std::vector<PeerLedgerClosed::Connection> closed;
    {
        std::lock_guard lock(closed_->mutex);
        closed.swap(closed_->connections);
    }
    std::set<std::string> gone;
    for (const auto& connection : closed) {
        gone.insert(connection.endpoint);
        // The final counts replace what the last poll saw of this connection.
        auto& entry = peers_[connection.endpoint];
        entry.address = connection.address;
        if (!connection.client.empty())
            entry.client = connection.client;
        entry.uploaded_before += connection.uploaded;
        entry.downloaded_before += connection.downloaded;
        entry.uploaded_now = entry.downloaded_now = 0;
    }
    std::vector<lt::peer_info> infos;
    handle.get_peer_info(infos);
    for (auto& [key, entry] : peers_)
        entry.connected = false;
    int live = 0;
    for (const auto& info : infos) {
        // One entry per connection endpoint; a reconnection from the same
        // endpoint starts libtorrent's counts at 0 again: keep the old ones.
        if (gone.count(endpoint_text(info.ip)))
            continue; // closing: its final counts are in already
        auto& entry = peers_[endpoint_text(info.ip)];
        if (info.total_upload < entry.uploaded_now || info.total_download < entry.downloaded_now) {
            entry.uploaded_before += entry.uploaded_now;
            entry.downloaded_before += entry.downloaded_now;
        }
        entry.address = info.ip.address().to_string();
        entry.uploaded_now = info.total_upload;
        entry.downloaded_now = info.total_download;
        entry.client = info.client;
        entry.connected = true;
        ++live;
    }
    connected_ = live;
}

nlohmann::json PeerLedger::to_json() const
{
    // Summed by IP address: incoming connections come from ephemeral ports.
    std::map<std::string, Entry> by_address;
    for (const auto& [key, entry] : peers_) {
        auto& sum = by_address[entry.address];
        sum.uploaded_before += entry.uploaded_before + entry.uploaded_now;
        sum.downloaded_before += entry.downloaded_before + entry.downloaded_now;
        sum.connected = sum.connected || entry.connected;
        if (!entry.client.empty())
            sum.client = entry.client;
    }
    nlohmann::json out = nlohmann::json::array();
    for (const auto& [address, entry] : by_address)
        out.push_back({{"address", address},
                       {"client", entry.client},
                       {"uploaded_bytes", entry.uploaded_before},
                       {"downloaded_bytes", entry.downloaded_before},
                       {"connected", entry.connected}});
    return out;
}

std::string drain_alerts(lt::session& session, std::vector<lt::alert*>* keep)
{
    std::vector<lt::alert*> alerts;
    session.pop_alerts(&alerts);
    std::string error;
    for (auto* alert : alerts) {
        if (keep)
            keep->push_back(alert);
        const auto category = alert->category();
        if (lt::alert_cast<lt::tracker_error_alert>(alert) || lt::alert_cast<lt::tracker_warning_alert>(alert) ||
            lt::alert_cast<lt::scrape_failed_alert>(alert)) {
            spdlog::info("{}", alert->message());
        } else if (lt::alert_cast<lt::file_error_alert>(alert) || lt::alert_cast<lt::torrent_error_alert>(alert)) {
            if (error.empty())
                error = alert->message();
        } else if (category & lt::alert_category::error) {
            spdlog::debug("{}", alert->message());
        } else {
            spdlog::trace("{}", alert->message());
        }
    }
    return error;
}

} // namespace imsp2p::swarm
