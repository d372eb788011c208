// Load records: every core node publishes what it carries under one
// well-known key of the managed overlay, so that clients and the other nodes
// can spread new work without a load balancer (README "Load balancing").
//
// A record is the content records' envelope (content_record.hpp: Ed25519,
// the signer's certificate from the overlay CA) around a small JSON payload,
// signed with the node's own certificate: any holder of ca.crt (a UE tool,
// overlay-probe) can check it, no overlay key needed. Its expiry is three
// publishing intervals ahead, so the record of a dead node lapses by itself.
#pragma once

#include "dht/content_record.hpp"
#include "dht/overlay_node.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace imsp2p::core {

// The DHT key string (hashed like every key: InfoHash::get).
inline constexpr std::string_view core_load_key = "service:core-load";
// The longest a load record may claim to live (3 x the longest --load-interval).
inline constexpr std::int64_t max_load_lifetime = dht::OverlayNode::load_lifetime.count();

struct CoreLoad {
    std::string node;               // the CN of the node's certificate
    std::string sip;                // where it takes SIP requests, e.g. sip:127.0.110.1:5060
    double rate = 0;                // initial requests served per second (sliding window)
    double cap = 0;                 // --max-rate; 0: none
    std::uint64_t registrations = 0; // registrations it accepted that have not expired
    double cpu = 0;                 // share of one CPU used over the last interval, 0-N
    bool overloaded = false;        // shedding new initial requests now
    std::int64_t timestamp_ms = 0;  // when measured (also the record's seq)
    std::int64_t expires = 0;       // unix seconds (from the envelope)

    // 0 (idle) .. 1 (at capacity): rate/cap, or the CPU share without a cap.
    double utilisation() const;
};

// Signs a load record with the node's credential (its CN must be load.node).
// Failure(usage) for fields out of bounds.
Bytes sign_load(const dht::Credential& credential, const CoreLoad& load, std::int64_t expires);

struct LoadChecked {
    dht::ContentVerdict verdict = dht::ContentVerdict::malformed;
    std::string why;
    std::string signer;
    CoreLoad load; // meaningful when ok
    bool ok() const { return verdict == dht::ContentVerdict::ok; }
};

// Envelope, signer chain to the CA, signature, key, and that the payload
// names the signing node.
LoadChecked check_load(const dht::ContentVerifier& verifier, std::span<const std::uint8_t> data, std::time_t now);

// The value id of a node's record: each node one slot, replaced by its next.
std::uint64_t load_value_id(std::string_view node);

// Valid records, the newest per node, from raw values (refused ones counted
// into `refused` when given).
std::vector<CoreLoad> newest_loads(const dht::ContentVerifier& verifier, const std::vector<Bytes>& values,
                                   std::time_t now, std::vector<LoadChecked>* refused = nullptr);

// The store policy of the load type for a core node (OverlayConfig::load_check).
std::function<std::optional<dht::OverlayConfig::SlotCheck>(std::span<const std::uint8_t>)>
load_store_check(std::shared_ptr<const dht::ContentVerifier> verifier);

nlohmann::json load_json(const CoreLoad& load);

} // namespace imsp2p::core
