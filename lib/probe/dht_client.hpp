// A short-lived OpenDHT client node for probes: joins an overlay, and unlike
// dht::OverlayNode (a long-lived store) reports which nodes answered each
// lookup and how long pings take, which is what a probe measures. Blocking
// calls, each bounded by its own timeout; OpenDHT's callbacks only fill
// shared state, so a late answer after a timeout is harmless.
#pragma once

#include <netinet/in.h>

#include "util/hex.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::dht {
class SocketHub;
}

namespace imsp2p::probe {

// IPV4-ADDRESS:PORT of a DHT node, parsed; Failure(usage) naming it otherwise.
sockaddr_in ipv4_peer(const std::string& host_port);

struct DhtPeer {
    std::string id;      // 40 hex digits
    std::string address; // IPv4 host:port
};

struct Lookup {
    bool ok = false;              // the search ended (false: failed or timed out)
    double ms = 0;                // from start to end
    std::vector<DhtPeer> nodes;   // the closest nodes that answered, nearest first
    std::vector<Bytes> values;    // raw value data found
};

struct DhtClientConfig {
    std::string bind = "0.0.0.0"; // local IPv4 address (port: ephemeral)
    std::uint32_t network_id = 0;
};

// The probe's node id, the same on every run from one host, address and
// network: OpenDHT 2.4 has no client mode, so a probe's node stays in the
// overlay's routing tables after it exits, and searches wait on the dead
// entry (1.2 s, and "not acknowledged" puts) unless the next probe comes
// back under the same id, which makes the nodes update its address.
std::string stable_node_id(const DhtClientConfig& config);

class DhtClient {
public:
    // Failure(usage) for a bad address or network id 0, Failure(local) if it cannot bind.
    explicit DhtClient(const DhtClientConfig& config);
    // The process's one node for `config`, shared by the probes running at
    // once (overlay-probe all: dht, and sip --resolve): a second node would
    // leave, when its probe ends, a dead entry the other's searches wait on.
    static std::shared_ptr<DhtClient> shared(const DhtClientConfig& config);
    ~DhtClient();
    DhtClient(const DhtClient&) = delete;
    DhtClient& operator=(const DhtClient&) = delete;

    // Resolves HOST:PORT to IPv4 addresses: Failure(usage) when malformed,
    // Failure(no_answer) "cannot resolve" when DNS has no address.
    static std::vector<std::string> resolve(const std::string& host_port);

    // One ping to ADDRESS:PORT (numeric): its RTT in ms, nullopt if no answer by `timeout`.
    std::optional<double> ping(const std::string& address, std::chrono::milliseconds timeout);
    // Pings many at once (bounded in flight), RTT per address in the same order.
    std::vector<std::optional<double>> ping_all(const std::vector<std::string>& addresses, std::chrono::milliseconds timeout);
    // Adds a node to join through (no wait).
    void bootstrap(const std::string& address);

    // A search for `key_hex` (40 hex digits) or, with get_key, for InfoHash::get(text).
    Lookup lookup(const std::string& key_hex, std::chrono::milliseconds timeout);
    // Several lookups in flight at once; results in order.
    std::vector<Lookup> lookup_all(const std::vector<std::string>& keys_hex, std::chrono::milliseconds timeout);
    // Stores `data` (raw bytes, value type 0) under key_hex; true once stored on the closest nodes.
    bool put(const std::string& key_hex, const Bytes& data, std::chrono::milliseconds timeout);

    unsigned good_nodes() const;
    unsigned dubious_nodes() const;
    std::vector<DhtPeer> routing_table() const; // the nodes this client knows
    std::string node_id() const;
    // DHT requests this node has sent (pings, finds, gets, listens, puts): the
    // probe's traffic, each answered by at most one reply.
    unsigned long requests_sent() const;
    static std::string hash_of(const std::string& text); // InfoHash::get(text) in hex
    static std::string random_key();

private:
    struct Runner;
    // The runner's socket (dht/socket_hub): on a loopback testbed it keeps the
    // addresses of node lists right (dht/loopback_alias). Outlives the runner.
    std::shared_ptr<dht::SocketHub> hub_;
    std::unique_ptr<Runner> runner_;
};

} // namespace imsp2p::probe
