// Direct "find" requests to chosen OpenDHT nodes, in OpenDHT's own wire
// format (msgpack over UDP), for the crawl. OpenDHT 2.4's API has no such
// request: its lookups go through searches, which name at most 14 nodes
// near one key and wait out every unresponsive node they meet (seconds per
// departed node), so a crawl built on them missed nodes and stalled. Asking
// each node for the nodes it knows near several keys reads its routing
// table instead, which is how DHT crawlers work. The requests say they come
// from a client node, so the crawler leaves no entry in those tables.
#pragma once

#include "probe/dht_client.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace imsp2p::probe {

struct FindQuery {
    std::string address;    // IPv4 host:port of the node to ask
    std::string target_hex; // 40 hex digits
};

struct FindAnswer {
    bool answered = false;
    std::string id;              // the node's id, as it says
    std::vector<DhtPeer> nodes;  // the IPv4 nodes it named
};

class DhtFinder {
public:
    // A UDP socket on `bind` (IPv4, ephemeral port) and a random node id of
    // its own. Failure(usage) for a bad address, Failure(local) if it cannot bind.
    DhtFinder(const std::string& bind, std::uint32_t network_id);
    ~DhtFinder();
    DhtFinder(const DhtFinder&) = delete;
    DhtFinder& operator=(const DhtFinder&) = delete;

    // Sends every query (at most `window` unanswered at once), resending one
    // without an answer after `wait`, `attempts` times in all; answers in
    // order. Stops waiting at `deadline`.
    std::vector<FindAnswer> find_all(const std::vector<FindQuery>& queries, std::chrono::milliseconds wait, unsigned attempts,
                                     std::chrono::steady_clock::time_point deadline);

    unsigned long requests_sent() const { return sent_; }

private:
    int fd_ = -1;
    std::uint32_t network_id_;
    std::string id_; // 20 raw bytes
    unsigned long sent_ = 0;
};

} // namespace imsp2p::probe
