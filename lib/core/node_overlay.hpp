// A core node's membership of the managed overlay: its OpenDHT node, its
// credential from the operator's CA, and the location service kept there.
// Built from p2p-node's options; without --dht the node keeps bindings in
// memory instead (a stand-alone registrar).
#pragma once

#include "core/dht_location.hpp"
#include "dht/overlay_node.hpp"
#include "dht/simulated_overlay.hpp"
#include "sip/mailbox.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace imsp2p::sip {
class SipStack;
}

namespace imsp2p::core {

struct OverlayOptions {
    std::string dht;                     // ADDRESS[:PORT] of the DHT node; empty: no overlay
    std::vector<std::string> bootstrap;  // HOST:PORT, several allowed
    std::uint32_t network_id = dht::default_network_id;
    std::string credentials;             // directory with ca.crt and NODE.crt/NODE.key
    std::string node_name;               // NODE: the CN of this node's certificate
    unsigned nodes = 1;                  // simulation mode: DHT nodes in this process, this node's included
    std::size_t lookup_cache = 4096;     // AORs whose lookups are answered from memory, kept current by listens
};

constexpr std::uint16_t default_dht_port = 4222;

class NodeOverlay {
public:
    // Failure(usage) for bad options or credentials, Failure(local) when the
    // DHT port cannot be bound. State goes to state_dir/dht.
    NodeOverlay(const OverlayOptions& options, const std::filesystem::path& state_dir, sip::SipStack& stack,
                std::function<void(const DroppedValue&)> on_dropped);
    ~NodeOverlay();

    LocationService& location() { return *location_; }
    dht::OverlayNode& overlay() { return *overlay_; }
    const DhtLocation& dht_location() const { return *location_; }
    const dht::Credential& credential() const { return *credential_; }
    std::shared_ptr<const dht::ContentVerifier> ca_verifier() const { return ca_verifier_; }
    std::size_t simulated_nodes() const { return simulated_ ? simulated_->size() : 0; }

    // Simulation mode: waits (bounded) until probe records put through random
    // nodes are found through others; an overlay without simulated nodes is
    // ready at once.
    dht::Readiness wait_ready(std::chrono::seconds max_wait);

private:
    sip::Mailbox mailbox_;                 // first: it outlives the overlay's callbacks
    std::shared_ptr<dht::SocketHub> hub_;  // the DHT sockets; outlives every node on it
    std::unique_ptr<dht::Credential> credential_;
    std::shared_ptr<const dht::ContentVerifier> ca_verifier_; // content and load records: chained to ca.crt
    std::unique_ptr<dht::OverlayNode> overlay_;
    std::unique_ptr<dht::SimulatedOverlay> simulated_;
    std::unique_ptr<dht::RecordSigner> probe_signer_;
    std::unique_ptr<DhtLocation> location_;
};

// The checks of OverlayOptions that need no I/O (run before anything starts).
void check_overlay_options(const OverlayOptions& options);

} // namespace imsp2p::core
