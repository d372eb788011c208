// A core node's membership of the managed overlay: its OpenDHT node, its
// credential from the operator's CA, and the location service kept there.
// Built from p2p-node's options; without --dht the node keeps bindings in
// memory instead (a stand-alone registrar).
#pragma once

#include "core/dht_location.hpp"
#include "dht/overlay_node.hpp"
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
    std::uint32_t network_id = 0x494d53; // "IMS": a private overlay, never OpenDHT's public 0
    std::string credentials;             // directory with ca.crt and NODE.crt/NODE.key
    std::string node_name;               // NODE: the CN of this node's certificate
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

private:
    sip::Mailbox mailbox_;                 // first: it outlives the overlay's callbacks
    std::unique_ptr<dht::OverlayNode> overlay_;
    std::unique_ptr<DhtLocation> location_;
};

// The checks of OverlayOptions that need no I/O (run before anything starts).
void check_overlay_options(const OverlayOptions& options);

} // namespace imsp2p::core
