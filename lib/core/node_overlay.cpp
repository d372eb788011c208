#include "core/node_overlay.hpp"

#include "core/load_record.hpp"

#include "cli/outcome.hpp"
#include "dht/overlay_ca.hpp"
#include "dht/overlay_key.hpp"
#include "dht/socket_hub.hpp"
#include "sip/host_port.hpp"

#include <fmt/format.h>

#include <ctime>

namespace imsp2p::core {

void check_overlay_options(const OverlayOptions& options)
{
    if (options.dht.empty()) {
        if (!options.bootstrap.empty() || !options.credentials.empty() || options.nodes > 1)
            throw Failure(Outcome::usage, "--bootstrap, --credentials and --nodes need --dht ADDRESS[:PORT]");
        return;
    }
    sip::parse_host_port(options.dht, "--dht");
    for (const auto& bootstrap : options.bootstrap)
        dht::parse_bootstrap(bootstrap, "--bootstrap");
    if (options.network_id == 0)
        throw Failure(Outcome::usage, "--network-id 0 is OpenDHT's public network: give the overlay's own id");
    if (options.credentials.empty() || options.node_name.empty())
        throw Failure(Outcome::usage, "--dht needs --credentials DIR and --node-name NAME (see p2p-node ca --help)");
}

NodeOverlay::NodeOverlay(const OverlayOptions& options, const std::filesystem::path& state_dir, sip::SipStack& stack,
                         std::function<void(const DroppedValue&)> on_dropped)
    : mailbox_(stack)
{
    const std::filesystem::path dir = options.credentials;
    auto ca = dht::load_certificate(dir / "ca.crt");
    // The certificate still gates who runs a core node (and names it); the
    // overlay key is what makes its records count (signed_record.hpp).
    credential_ = std::make_unique<dht::Credential>(dht::load_node_credential(dir, options.node_name, ca.get()));
    const auto& credential = *credential_;
    const auto key = dht::OverlayKey::load(dir / "overlay.key");
    auto verifier = std::make_shared<const dht::Verifier>(key);

    const auto bind = sip::parse_host_port(options.dht, "--dht");
    dht::OverlayConfig config;
    config.name = options.node_name;
    config.address = bind.host;
    config.port = static_cast<std::uint16_t>(bind.port ? bind.port : default_dht_port);
    config.network_id = options.network_id;
    config.bootstrap = options.bootstrap;
    config.state_dir = state_dir / "dht";
    config.verifier = verifier;
    // Content records are signed by publishers, checked against ca.crt; a
    // refused one is reported like a forged binding, on the node's loop.
    ca_verifier_ = std::make_shared<const dht::ContentVerifier>(ca);
    config.content_verifier = ca_verifier_;
    // Load records are signed by the nodes' own certificates (load_record.hpp).
    config.load_check = load_store_check(ca_verifier_);
    config.on_refused_content = [this, on_dropped](const std::string& key, const dht::ContentChecked& checked) {
        if (!on_dropped)
            return;
        DroppedValue dropped{key, std::string(dht::verdict_name(checked.verdict)), checked.why, checked.publisher};
        mailbox_.post([on_dropped, dropped] { on_dropped(dropped); });
    };
    // Our socket rather than OpenDHT's, for the simulated nodes (one epoll
    // thread for all) and for the larger receive buffer (socket_hub.cpp).
    hub_ = dht::SocketHub::create();
    config.hub = hub_;
    overlay_ = std::make_unique<dht::OverlayNode>(config);
    if (options.nodes > 1) {
        simulated_ = std::make_unique<dht::SimulatedOverlay>(config, options.nodes - 1, *overlay_);
        probe_signer_ = std::make_unique<dht::RecordSigner>(key, credential.name());
    }

    DhtLocationConfig location_config;
    location_config.node_name = options.node_name;
    location_config.on_dropped = std::move(on_dropped);
    location_config.lookup_cache = options.lookup_cache;
    location_ = std::make_unique<DhtLocation>(
        *overlay_, dht::RecordSigner(key, credential.name()), verifier,
        [this](std::function<void()> work) { mailbox_.post(std::move(work)); }, location_config);
}

dht::Readiness NodeOverlay::wait_ready(std::chrono::seconds max_wait)
{
    if (!simulated_)
        return {true, 0, 0, std::chrono::milliseconds(0)};
    constexpr unsigned streak = 32; // one miss in 32 is already more than a testbed should see
    return simulated_->wait_ready(
        [this](const std::string& key) {
            const auto now = std::time(nullptr);
            return probe_signer_->sign({key, "probe", {}, static_cast<std::uint64_t>(now), now + 60, {}});
        },
        streak, max_wait);
}

NodeOverlay::~NodeOverlay()
{
    location_.reset();
    simulated_.reset();
    overlay_->stop(); // no OpenDHT callback may reach the mailbox after this
}

} // namespace imsp2p::core
