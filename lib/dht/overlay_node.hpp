// One OpenDHT node per process: the overlay that holds the location service
// (DESIGN.md §4). Raw byte values under InfoHash::get(key string), of one
// value type (record_type) whose store and edit policies check the overlay's
// signed records (signed_record.hpp), so our nodes never store forged values.
//
// Threads: OpenDHT runs its own thread. Every put and get ends in exactly one
// call of its `done`: on OpenDHT's thread, on this node's timer thread when
// the operation outlives op_timeout, or on the caller's thread when the node
// is stopped (and in stop() for operations still open then). Hand the result
// to your own loop (e.g. sip::Mailbox::post) and keep the work there short.
#pragma once

#include "dht/content_record.hpp"
#include "dht/signed_record.hpp"
#include "util/hex.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace imsp2p::dht {

class SocketHub;

// The managed overlay's network id unless configured otherwise ("IMS"): a
// private overlay, never OpenDHT's public 0.
inline constexpr std::uint32_t default_network_id = 0x494d53;

struct OverlayConfig {
    std::string name;                      // for the logs, e.g. the node's name
    std::string address;                   // IPv4 address to bind (required; e.g. 127.0.50.1)
    std::uint16_t port = 0;                // 0: an ephemeral port (see port())
    std::uint32_t network_id = 0;          // the private overlay's id; 0 (OpenDHT's public network) is refused
    std::vector<std::string> bootstrap;    // "host:port" of nodes to join through; several are better than one
    std::filesystem::path state_dir;       // node id and node cache; empty: nothing kept
    std::shared_ptr<const Verifier> verifier; // store/edit policy; null: store anything (tests, open nodes)
    // Content records' store/edit policy (content_type); null: store anything.
    std::shared_ptr<const ContentVerifier> content_verifier;
    // A content record the policy refused (key string when decodable, else the
    // hash), on OpenDHT's thread: keep it short.
    std::function<void(const std::string& key, const ContentChecked& checked)> on_refused_content;
    // Load records' store/edit policy (load_type, core/load_record.hpp, a
    // layer above): the record's key, signer and seq when it may be stored,
    // nullopt when not. Null: store anything.
    struct SlotCheck {
        std::string key;
        std::string signer;
        std::uint64_t seq = 0;
    };
    std::function<std::optional<SlotCheck>(std::span<const std::uint8_t> data)> load_check;
    std::chrono::seconds cache_period{60}; // how often the node cache is written
    std::chrono::milliseconds shutdown_wait{3000}; // stop(): how long OpenDHT may take to hand values on
    std::chrono::milliseconds op_timeout{10000};   // a put or get unanswered by then fails
    std::shared_ptr<SocketHub> hub;        // receive on this hub (simulation mode); null: OpenDHT's own socket
};

struct RawValue {
    std::uint64_t id = 0;                  // OpenDHT value id: same id, same slot (a put replaces)
    std::uint16_t type = 0;                // OpenDHT value type (record_type for ours)
    Bytes data;
};

struct OverlayStats {
    unsigned good_nodes = 0;
    unsigned dubious_nodes = 0;
    std::size_t stored_values = 0;         // values this node stores for the overlay (and its own)
    std::size_t stored_bytes = 0;
    std::string node_id;                   // hex
    std::uint16_t port = 0;
};

class OverlayNode {
public:
    using PutDone = std::function<void(bool ok)>;
    using GetDone = std::function<void(bool ok, std::vector<RawValue> values)>;

    static constexpr std::uint16_t record_type = 0x1a5e;
    // The value type's expiration: how long our nodes keep a value after its
    // last write (a refresh rewrites it). A binding's real end is the expiry
    // signed in its record, which readers check; a plain OpenDHT node keeps
    // values of a type it does not know for its default 10 minutes.
    static constexpr std::chrono::seconds max_lifetime = std::chrono::hours(24);
    // Short-lived records telling listeners that a key changed (OpenDHT 2.4
    // pushes only value ids a listener has not seen, so a replaced value is
    // never pushed: a new notice, with a new id, is). Their number on a node
    // is the write rate times their lifetime: with 2 minutes, a 2,000/s
    // registration load grew each node by ~250 MB; a listener needs a
    // notice only for the moment it is pushed.
    static constexpr std::uint16_t notice_type = 0x1a5f;
    static constexpr std::chrono::seconds notice_lifetime = std::chrono::seconds(15);
    // A core node's standing interest in an AOR's notices (core/lookup_cache.hpp):
    // writers put notices only while another node's cacher record lives.
    static constexpr std::uint16_t cacher_type = 0x1a62;
    static constexpr std::chrono::seconds cacher_lifetime = std::chrono::minutes(10);
    // Content records (content_record.hpp), signed by publishers; kept as long
    // as the longest lifetime a record may sign, their publishers refresh them.
    static constexpr std::uint16_t content_type = 0x1a60;
    static constexpr std::chrono::seconds content_lifetime = std::chrono::seconds(max_content_lifetime);

    // Core nodes' load records (core/load_record.hpp), each replaced by its
    // node every --load-interval; kept up to the longest a record may sign.
    static constexpr std::uint16_t load_type = 0x1a61;
    static constexpr std::chrono::seconds load_lifetime = std::chrono::seconds(600);

    // Starts the node and joins through the cache and config.bootstrap.
    // Failure(usage) for a bad config, Failure(local) if it cannot bind.
    explicit OverlayNode(OverlayConfig config);
    ~OverlayNode(); // stop()
    OverlayNode(const OverlayNode&) = delete;
    OverlayNode& operator=(const OverlayNode&) = delete;

    // Stores `data` under key with value id `id` (non-zero). `lifetime` is
    // advisory (the record's signed expiry is what counts). A put with the id of a stored value replaces it,
    // if the edit policy allows (a valid record with a higher seq). done(ok)
    // once the closest nodes acknowledged it; false if not by op_timeout.
    void put(const std::string& key, Bytes data, std::uint64_t id, std::chrono::seconds lifetime, PutDone done,
             std::uint16_t type = record_type);
    // Forgets a value put through this node: no more announces of it, and
    // this node's own copy is erased (the copies others store stay).
    void cancel_put(const std::string& key, std::uint64_t id);
    // Every value found under key (duplicates from several nodes removed; they
    // are NOT verified here). ok false: the lookup failed or timed out (values
    // then holds what came before).
    void get(const std::string& key, GetDone done);

    // Calls on_values with the values under key as they arrive: those stored
    // now, then each new or replaced one (expired false) and each that left
    // the storing nodes (expired true). Runs on OpenDHT's thread, never after
    // unlisten() or stop() returned. Not verified. Returns the handle for
    // unlisten; 0 once the node is stopping.
    using Listener = std::function<void(std::vector<RawValue> values, bool expired)>;
    std::uint64_t listen(const std::string& key, Listener on_values);
    void unlisten(std::uint64_t handle);

    // Pings host:port now and keeps it to rejoin through should the node lose
    // all its peers. Failure(usage) when not host:port.
    void bootstrap(const std::string& host_port);
    OverlayStats stats() const;
    std::string node_id() const;                  // hex
    std::uint16_t port() const { return port_; }  // the bound one
    const std::string& address() const { return config_.address; }
    void save_node_cache();                       // now; also every cache_period and on stop

    // Leaves the overlay: saves the node cache, shuts OpenDHT down (bounded
    // wait), joins its threads and fails the operations still open. No
    // callback runs after stop() returns.
    void stop();

private:
    using DeadlineKey = std::pair<std::chrono::steady_clock::time_point, std::uint64_t>;
    // What to do if an operation is still unanswered at op_timeout.
    DeadlineKey arm(std::function<void()> expire);
    void disarm(const DeadlineKey& key);
    void housekeeping(); // the timer thread: deadlines and node cache writes

    struct Runner; // OpenDHT's DhtRunner, kept out of this header
    OverlayConfig config_;
    std::unique_ptr<Runner> runner_;
    std::uint16_t port_ = 0;
    std::mutex mutex_;       // guards stopping_ and listens_: no operation starts once stop() began
    bool stopping_ = false;
    struct Listening;
    std::map<std::uint64_t, std::shared_ptr<Listening>> listens_;
    std::uint64_t listen_count_ = 0;
    std::mutex cache_mutex_; // one node cache write at a time
    std::mutex timer_mutex_; // guards the rest
    std::condition_variable timer_wake_;
    std::map<DeadlineKey, std::function<void()>> deadlines_;
    std::uint64_t deadline_count_ = 0;
    bool timer_stop_ = false;
    std::thread housekeeper_;
};

// host:port → (host, port); Failure(usage) naming `what` when malformed.
std::pair<std::string, std::uint16_t> parse_bootstrap(const std::string& host_port, const std::string& what);

} // namespace imsp2p::dht
