#include "core/node_overlay.hpp"

#include "cli/outcome.hpp"
#include "dht/overlay_ca.hpp"
#include "sip/host_port.hpp"

#include <fmt/format.h>

namespace imsp2p::core {

void check_overlay_options(const OverlayOptions& options)
{
    if (options.dht.empty()) {
        if (!options.bootstrap.empty() || !options.credentials.empty())
            throw Failure(Outcome::usage, "--bootstrap and --credentials need --dht ADDRESS[:PORT]");
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
    auto credential = dht::load_node_credential(dir, options.node_name, ca.get());
    auto verifier = std::make_shared<const dht::Verifier>(ca);

    const auto bind = sip::parse_host_port(options.dht, "--dht");
    dht::OverlayConfig config;
    config.name = options.node_name;
    config.address = bind.host;
    config.port = static_cast<std::uint16_t>(bind.port ? bind.port : default_dht_port);
    config.network_id = options.network_id;
    config.bootstrap = options.bootstrap;
    config.state_dir = state_dir / "dht";
    config.verifier = verifier;
    overlay_ = std::make_unique<dht::OverlayNode>(config);

    DhtLocationConfig location_config;
    location_config.node_name = options.node_name;
    location_config.on_dropped = std::move(on_dropped);
    location_ = std::make_unique<DhtLocation>(
        *overlay_, dht::RecordSigner(std::move(credential)), verifier,
        [this](std::function<void()> work) { mailbox_.post(std::move(work)); }, location_config);
}

NodeOverlay::~NodeOverlay()
{
    location_.reset();
    overlay_->stop(); // no OpenDHT callback may reach the mailbox after this
}

} // namespace imsp2p::core
