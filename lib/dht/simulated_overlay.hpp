// Simulation mode (p2p-node --nodes N): the core node's own OpenDHT node and
// N-1 more in the same process, on consecutive ports of its address, all on
// one SocketHub, so overlays of 64 to 1,024 nodes fit on one machine. The
// extra nodes store and serve values like any overlay node (same value type
// and store policy) but keep no state: each run they take new ids.
#pragma once

#include "dht/overlay_node.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace imsp2p::dht {

struct Readiness {
    bool ready = false;
    unsigned probes = 0;   // round trips tried
    unsigned found = 0;    // of which the value came back
    std::chrono::milliseconds took{0};
};

class SimulatedOverlay {
public:
    static constexpr unsigned max_nodes = 1024; // the front included

    // Starts `count` nodes at base.port + 1 … base.port + count (base.hub
    // required). Each joins through the front and two nodes started before
    // it: a chain of single bootstraps leaves lookups unreliable
    // (NOTES-deps.md). Failure(usage) when the ports run past 65535,
    // Failure(local) when one cannot be bound.
    SimulatedOverlay(const OverlayConfig& base, unsigned count, OverlayNode& front);
    ~SimulatedOverlay();
    SimulatedOverlay(const SimulatedOverlay&) = delete;
    SimulatedOverlay& operator=(const SimulatedOverlay&) = delete;

    std::size_t size() const { return nodes_.size(); } // the front not counted
    OverlayNode& node(std::size_t i) { return *nodes_.at(i); }

    // "Every node has good peers" comes long before lookups are reliable, so
    // readiness is judged by probe round trips: a record (made by
    // make_record for a fresh key) put through a random node, front included,
    // then looked up through another. Ready after `streak` successes in a
    // row; gives up after `max_wait`.
    Readiness wait_ready(const std::function<Bytes(const std::string& key)>& make_record, unsigned streak,
                         std::chrono::seconds max_wait);

private:
    OverlayNode& any(std::size_t pick); // front or a simulated node
    OverlayNode& front_;
    std::vector<std::unique_ptr<OverlayNode>> nodes_;
};

} // namespace imsp2p::dht
