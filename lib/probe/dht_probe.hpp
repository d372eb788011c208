// overlay-probe dht: joins an OpenDHT overlay as a short-lived client and
// measures it (reachable nodes, size estimate, put→get, lookup latency),
// optionally crawling it.
#pragma once

#include "probe/probe_result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace imsp2p::probe {

struct DhtProbeOptions {
    std::vector<std::string> bootstrap; // HOST:PORT, at least one
    std::uint32_t network_id = 0;
    std::string bind = "0.0.0.0";       // the client node's local address
    unsigned lookups = 20;
    bool crawl = false;
    unsigned max_nodes = 1024;          // crawl bound
    double crawl_time = 10;             // crawl bound, seconds
    double timeout = 5;                 // seconds for the bootstrap to answer, and per operation
};

void check(const DhtProbeOptions& options); // Failure(usage) for bad options, before any I/O
ProbeResult probe_dht(const DhtProbeOptions& options);

// Overlay size from the nodes closest to random keys: with N ids spread
// evenly, the k-th closest to any key lies at distance ≈ k/N of the key space,
// so each lookup gives N ≈ k / d_k; the median of those is the estimate.
// Each entry: the key and the ids of the nodes found, all hex. 0 if no lookup had k nodes.
double estimate_size(const std::vector<std::pair<std::string, std::vector<std::string>>>& lookups, unsigned k = 8);

// What answers at ADDRESS:PORT over UDP when an OpenDHT ping got no reply:
// "nothing listens", "answers, but not as an OpenDHT node", or "silent".
std::string diagnose_udp(const std::string& address);

} // namespace imsp2p::probe
