// The crawl of overlay-probe dht --crawl: enumerates an OpenDHT overlay's
// nodes by reading their routing tables. Breadth first, in waves: every node
// found and not yet asked is asked (dht_find.hpp) for the nodes it knows
// near its own id and near that id with each of its first bits flipped, one
// key per bucket of its routing table, as many bits as the overlay is large
// (log2 of the nodes found, plus 3). The crawl ends when a wave names no
// new node, at the node bound, or at the time bound.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace imsp2p::probe {

struct Crawl {
    std::map<std::string, std::string> nodes; // id → address, every node found (the probe itself left out)
    unsigned finds = 0;                       // find requests (queries; resends counted in requests)
    unsigned long requests = 0;               // datagrams sent
    unsigned answered = 0;                    // nodes that answered
    unsigned waves = 0;
    double seconds = 0;
    bool complete = false;                    // every node found was asked (false: stopped by a bound)
};

struct CrawlOptions {
    std::string bind;          // local IPv4 address
    std::uint32_t network_id = 0;
    unsigned max_nodes = 1024;
    double seconds = 10;
};

// Starts from the nodes in `start` (id → address); `self` (the probe's own
// DHT node) is never counted. Failure(local) if the crawler cannot bind.
Crawl crawl_overlay(const CrawlOptions& options, const std::string& self, const std::map<std::string, std::string>& start);

} // namespace imsp2p::probe
