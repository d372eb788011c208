#include "probe/swarm_probe.hpp"

#include "swarm/swarm_session.hpp"

#include <fmt/format.h>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/hex.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/peer_info.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>

namespace fs = std::filesystem;

namespace imsp2p::probe {
namespace {

using Clock = std::chrono::steady_clock;

bool is_hex(const std::string& text, std::size_t size)
{
    return text.size() == size && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
}

lt::add_torrent_params source_params(const SwarmProbeOptions& options)
{
    const auto& source = options.source;
    lt::add_torrent_params params;
    lt::error_code ec;
    if (source.starts_with("magnet:")) {
        params = lt::parse_magnet_uri(source, ec);
        if (ec)
            throw Failure(Outcome::usage, fmt::format("swarm: bad magnet link: {}", ec.message()));
    } else if (is_hex(source, 40)) {
        lt::sha1_hash hash;
        lt::aux::from_hex(source, hash.data());
        params.info_hashes.v1 = hash;
    } else if (is_hex(source, 64)) {
        lt::sha256_hash hash;
        lt::aux::from_hex(source, hash.data());
        params.info_hashes.v2 = hash;
    } else if (source.ends_with(".torrent")) {
        params.ti = std::make_shared<lt::torrent_info>(source, ec);
        if (ec)
            throw Failure(Outcome::usage, fmt::format("swarm: {}: {}", source, ec.message()));
    } else {
        throw Failure(Outcome::usage,
                      fmt::format("swarm: '{}' is not a magnet link, an info-hash (40 or 64 hex digits) or a .torrent file "
                                  "(content ids are resolved through content records: give --dht and --ca)",
                                  source));
    }
    for (const auto& tracker : options.trackers)
        params.trackers.push_back(tracker);
    return params;
}

double round3(double value)
{
    return std::round(value * 1000) / 1000;
}

} // namespace

void check(const SwarmProbeOptions& options)
{
    dht::check_content_client_options(options.overlay);
    if (options.overlay.enabled())
        dht::check_content_id(options.source, "swarm CONTENT-ID");
    else
        source_params(options);
    for (const auto& peer : options.peers)
        swarm::parse_peer(peer, "--peer");
    for (const auto& tracker : options.trackers)
        if (!tracker.starts_with("http://") && !tracker.starts_with("https://") && !tracker.starts_with("udp://"))
            throw Failure(Outcome::usage, fmt::format("swarm: --tracker '{}' is not an http://, https:// or udp:// URL", tracker));
}

ProbeResult probe_swarm(const SwarmProbeOptions& given)
{
    check(given);
    // A content id: its record's magnet, probed like any other.
    std::optional<dht::ContentRecord> record;
    SwarmProbeOptions options = given;
    if (given.overlay.enabled()) {
        auto overlay = given.overlay;
        overlay.bind = dht::client_bind_for(given.listen);
        overlay.timeout = std::chrono::milliseconds(static_cast<long long>(given.timeout * 1000));
        record = dht::ContentClient(overlay).resolve(given.source);
        options.source = record->info.magnet;
    }
    auto params = source_params(options);
    ProbeResult result;
    result.probe = "swarm";
    result.target = given.source.size() > 80 ? given.source.substr(0, 77) + "..." : given.source;
    const auto trackers = params.ti ? params.ti->trackers().size() : params.trackers.size();
    if (trackers == 0 && options.peers.empty())
        throw Failure(Outcome::usage, "swarm: no tracker and no --peer: nothing to ask (add --tracker URL)");

    // Nothing is downloaded (upload mode), but libtorrent wants a save path.
    std::error_code error;
    const auto dir = fs::temp_directory_path(error) / fmt::format("overlay-probe-swarm-{}", ::getpid());
    fs::create_directories(dir, error);
    struct Cleanup {
        fs::path dir;
        ~Cleanup()
        {
            std::error_code ignored;
            fs::remove_all(dir, ignored);
        }
    } cleanup{dir};
    params.save_path = dir.string();
    params.flags |= lt::torrent_flags::upload_mode;
    params.flags &= ~lt::torrent_flags::auto_managed;
    params.flags &= ~lt::torrent_flags::paused;

    auto session = swarm::open_session(options.listen, "--listen");
    auto settings = session->get_settings();
    settings.set_int(lt::settings_pack::alert_mask,
                     static_cast<int>(static_cast<std::uint32_t>(lt::alert_category::error | lt::alert_category::status |
                                                                 lt::alert_category::tracker)));
    // The probe scrapes trackers on any path (the testbed's are on loopback),
    // and keeps its connections even though neither side wants pieces.
    settings.set_bool(lt::settings_pack::ssrf_mitigation, false);
    settings.set_bool(lt::settings_pack::close_redundant_connections, false);
    settings.set_int(lt::settings_pack::stop_tracker_timeout, 1);
    session->apply_settings(settings);
    lt::error_code add_error;
    auto handle = session->add_torrent(std::move(params), add_error);
    if (add_error)
        throw Failure(Outcome::usage, fmt::format("swarm: cannot add the torrent: {}", add_error.message()));
    for (const auto& peer : options.peers)
        handle.connect_peer(swarm::parse_peer(peer, "--peer"));

    const auto started = Clock::now();
    const auto deadline = started + std::chrono::milliseconds(static_cast<long long>(options.timeout * 1000));
    int scrape_complete = -1, scrape_incomplete = -1;
    double scrape_ms = -1;
    std::string tracker_error;
    bool announced = false, scrape_sent = false, scrape_done = false;
    int announced_peers = 0;
    Clock::time_point metadata_at{};
    bool has_metadata = handle.status().has_metadata;
    if (has_metadata)
        metadata_at = started;
    Clock::time_point scrape_started{};
    // Every peer met, with its last bitfield: peers may close the connection
    // as soon as they see that the probe wants nothing, so the census is
    // taken while they are there, not at the end.
    struct Seen {
        std::string client;
        bool seed = false;
        double progress = 0;
        lt::typed_bitfield<lt::piece_index_t> pieces;
    };
    std::map<std::string, Seen> seen_peers;
    auto census = [&] {
        std::vector<lt::peer_info> now;
        handle.get_peer_info(now);
        for (const auto& peer : now) {
            // Only peers that completed the handshake: a tracker also names departed ones.
            if (peer.flags & (lt::peer_info::connecting | lt::peer_info::handshake))
                continue;
            auto& seen = seen_peers[fmt::format("{}:{}", peer.ip.address().to_string(), peer.ip.port())];
            seen.client = peer.client;
            seen.seed = seen.seed || (peer.flags & lt::peer_info::seed);
            seen.progress = std::max(seen.progress, static_cast<double>(peer.progress));
            if (peer.pieces.size() > 0)
                seen.pieces = peer.pieces;
        }
    };
    while (Clock::now() < deadline && !swarm::stop_requested()) {
        if (announced && !scrape_sent) {
            // After the announce, so the tracker counts this swarm (and a whitelist has answered).
            scrape_sent = true;
            scrape_started = Clock::now();
            handle.scrape_tracker(0);
        }
        session->wait_for_alert(std::chrono::milliseconds(100));
        std::vector<lt::alert*> alerts;
        session->pop_alerts(&alerts);
        for (const auto* alert : alerts) {
            if (const auto* reply = lt::alert_cast<lt::scrape_reply_alert>(alert)) {
                scrape_complete = reply->complete;
                scrape_incomplete = reply->incomplete;
                scrape_ms = std::chrono::duration<double, std::milli>(Clock::now() - scrape_started).count();
                scrape_done = true;
                tracker_error.clear();
            } else if (const auto* failed = lt::alert_cast<lt::scrape_failed_alert>(alert)) {
                if (scrape_complete >= 0)
                    continue; // a hybrid torrent's second hash may fail where the first answered
                tracker_error = fmt::format("scrape failed: {}", failed->error_message()[0] ? failed->error_message() : failed->error.message());
                scrape_done = true;
            } else if (const auto* reply = lt::alert_cast<lt::tracker_reply_alert>(alert)) {
                announced = true;
                announced_peers = reply->num_peers;
            } else if (const auto* failed = lt::alert_cast<lt::tracker_error_alert>(alert)) {
                tracker_error = fmt::format("announce failed: {}{}", failed->error.message(),
                                            failed->failure_reason()[0] ? fmt::format(" ({})", failed->failure_reason()) : "");
                announced = true; // the scrape may still answer
            } else if (lt::alert_cast<lt::metadata_received_alert>(alert)) {
                has_metadata = true;
                metadata_at = Clock::now();
            }
        }
        census();
        const bool trackers_done = trackers == 0 || scrape_done;
        // Done when the tracker answered and either nobody is there, or the
        // peers' bitfields have had a moment to arrive after the metadata.
        if (trackers_done && options.peers.empty() && announced_peers == 0 && seen_peers.empty() &&
            scrape_complete <= 0 && scrape_incomplete <= 1)
            break;
        if (trackers_done && has_metadata && !seen_peers.empty() && Clock::now() - metadata_at > std::chrono::milliseconds(1500))
            break;
    }
    census();
    const auto status = handle.status();
    int connected_seeds = 0;
    for (const auto& [address, peer] : seen_peers) {
        connected_seeds += peer.seed ? 1 : 0;
        result.items.push_back({{"address", address},
                                {"client", peer.client},
                                {"seed", peer.seed},
                                {"progress", round3(peer.seed ? 1.0 : peer.progress)}});
    }
    result.item_event = "swarm_peer";
    // Availability from the bitfields met: how many peers hold each piece;
    // distributed copies as libtorrent defines them (the least availability
    // plus the fraction of pieces held more often than that).
    const int pieces = status.has_metadata ? handle.torrent_file()->num_pieces() : 0;
    std::vector<int> availability(static_cast<std::size_t>(pieces), 0);
    for (const auto& [address, peer] : seen_peers)
        for (int i = 0; i < pieces; ++i)
            if (peer.seed || (i < peer.pieces.size() && peer.pieces.get_bit(lt::piece_index_t(i))))
                ++availability[static_cast<std::size_t>(i)];
    const int missing = static_cast<int>(std::count(availability.begin(), availability.end(), 0));
    const int least = availability.empty() ? 0 : *std::min_element(availability.begin(), availability.end());
    const double above = static_cast<double>(std::count_if(availability.begin(), availability.end(), [&](int a) { return a > least; }));
    const double copies = pieces > 0 ? least + above / pieces : 0;
    const bool full_copy = connected_seeds > 0 || (pieces > 0 && missing == 0);
    const auto peers = seen_peers; // for the counts below
    // Leaving: the "stopped" announce tells the trackers to forget the probe
    // (waited for up to stop_tracker_timeout), so it is no ghost peer later.
    const auto proxy = session->abort();

    // The tracker's counts include this probe as a leecher while it was announced.
    const int seeds = std::max(scrape_complete, connected_seeds);
    const int leechers = std::max(0, scrape_incomplete - 1);
    result.metric("seeds", seeds);
    result.metric("peers", static_cast<double>(peers.size()));
    result.metric("copies", copies);
    if (scrape_ms >= 0)
        result.metric("rtt_ms", scrape_ms);
    result.fields["info_hash"] = status.info_hashes.has_v1() ? lt::aux::to_hex(status.info_hashes.v1) : lt::aux::to_hex(status.info_hashes.v2);
    result.fields["scrape"] = scrape_done && scrape_complete >= 0
                                  ? nlohmann::json{{"seeds", scrape_complete}, {"leechers", leechers},
                                                   {"rtt_ms", round3(scrape_ms)}}
                                  : nlohmann::json();
    if (!tracker_error.empty())
        result.fields["tracker_error"] = tracker_error;
    result.fields["connected_peers"] = peers.size();
    result.fields["connected_seeds"] = connected_seeds;
    result.fields["has_metadata"] = status.has_metadata;
    result.fields["pieces"] = pieces;
    result.fields["pieces_unavailable"] = missing;
    result.fields["least_available"] = least;
    result.fields["distributed_copies"] = round3(copies);
    result.fields["full_copy"] = full_copy;
    result.fields["content_record"] = record ? dht::content_record_json(*record) : nlohmann::json();
    if (availability.size() <= 4096)
        result.fields["availability"] = availability;

    auto& d = result.detail;
    if (record)
        d += fmt::format("content {}: {} by {}, record expires in {} s\n", record->info.content_id, record->info.name,
                         record->info.publisher, record->expires - std::time(nullptr));
    d += fmt::format("swarm {}\n", result.fields["info_hash"].get<std::string>());
    d += scrape_done && scrape_complete >= 0
             ? fmt::format("  tracker scrape       {} seeds, {} leechers, {:.2f} ms\n", scrape_complete, leechers, scrape_ms)
             : fmt::format("  tracker scrape       {}\n", tracker_error.empty() ? "no answer" : tracker_error);
    d += fmt::format("  connected peers      {} ({} seeds)\n", peers.size(), connected_seeds);
    for (const auto& item : result.items)
        d += fmt::format("    {:<22} {:<24} {}\n", item["address"].get<std::string>(), item["client"].get<std::string>(),
                         item["seed"].get<bool>() ? "seed" : fmt::format("{:.0f}%", item["progress"].get<double>() * 100));
    d += status.has_metadata ? fmt::format("  pieces               {}, least available {}, {} unavailable\n", pieces, least, missing)
                             : std::string("  pieces               unknown (no metadata from any peer)\n");
    d += fmt::format("  distributed copies   {:.3f}; full copy {}\n", copies, full_copy ? "exists" : "DOES NOT exist");

    const bool scraped = scrape_complete >= 0;
    if (!scraped && peers.empty() && !tracker_error.empty()) {
        result.outcome = Outcome::no_answer;
        result.error = tracker_error;
    } else if (!scraped && peers.empty() && trackers > 0) {
        result.outcome = Outcome::no_answer;
        result.error = fmt::format("no tracker answered within {} s", options.timeout);
    } else if (seeds <= 0 && peers.empty()) {
        result.outcome = Outcome::negative;
        result.error = "the swarm has no peers";
    } else if (!full_copy) {
        result.outcome = Outcome::negative;
        result.error = "no full copy among the peers reached";
    }
    result.summary = fmt::format("{} seeds, {} peers connected, {:.2f} distributed copies, full copy {}", seeds, peers.size(),
                                 copies, full_copy ? "yes" : "no");
    if (!result.error.empty())
        result.summary = result.error + "; " + result.summary;
    return result;
}

} // namespace imsp2p::probe
