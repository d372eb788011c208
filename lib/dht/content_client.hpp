// Content records from a tool's side (swarm-publish, swarm-fetch,
// license-fetch, overlay-probe): a short-lived node joins the managed
// overlay through --dht nodes, writes or reads the records of a content id,
// and checks them against ca.crt alone (content_record.hpp). An OverlayNode
// rather than probe::DhtClient because records go out as content_type, the
// value type whose store policy the core nodes enforce.
#pragma once

#include "dht/content_record.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace imsp2p::dht {

class OverlayNode;
struct RawValue;

struct ContentClientOptions {
    std::vector<std::string> dht;       // HOST:PORT of overlay nodes to join through; empty: no overlay
    std::uint32_t network_id = 0;       // 0: default_network_id
    std::string ca;                     // the overlay CA's certificate (PEM)
    std::string bind = "0.0.0.0";       // local IPv4 address of the client's DHT node (127.0.0.1 if 0.0.0.0 and the --dht node is on loopback)
    std::chrono::milliseconds timeout{10000}; // joining, and each put or get
    bool enabled() const { return !dht.empty(); }
};

// --dht, --network-id and --ca on `app` (or an option group), listed under
// `group` in --help when given.
void add_content_client_options(CLI::App& app, ContentClientOptions& options, const std::string& group = {});
// Failure(usage) before any I/O: --dht entries not HOST:PORT, --ca missing
// with --dht, or --network-id/--ca without --dht.
void check_content_client_options(const ContentClientOptions& options);

// The address of a tool's --listen ADDRESS:PORT, so that its DHT node binds
// where its BitTorrent traffic goes; "0.0.0.0" when not an IPv4 address.
std::string client_bind_for(const std::string& listen);

struct ContentLookup {
    std::optional<ContentChecked> newest; // the valid record with the highest seq
    std::vector<ContentChecked> refused;  // values under the key that failed a check
    std::size_t values = 0;               // all values found
};

class ContentClient {
public:
    // Joins the overlay: Failure(usage) for bad options or an unreadable CA,
    // Failure(local) when it cannot bind, Failure(no_answer) when no --dht
    // node answers within the timeout.
    explicit ContentClient(const ContentClientOptions& options);
    ~ContentClient();
    ContentClient(const ContentClient&) = delete;
    ContentClient& operator=(const ContentClient&) = delete;

    // Stores an encoded record (ContentSigner::sign) under its content key,
    // in the publisher's slot. True once the closest nodes acknowledged it
    // (false: no answer in time). OpenDHT acknowledges values its storing
    // nodes' policy refused too: those show only in the core nodes' logs.
    bool publish(const Bytes& record, const std::string& content_id, const std::string& publisher);
    // Every record under the content id, checked. Failure(no_answer) when the
    // lookup itself fails or times out with nothing found.
    ContentLookup lookup(const std::string& content_id);
    // lookup() narrowed to the newest valid record: Failure(negative) when
    // there is none, Failure(auth) when only refused ones exist (each named).
    ContentRecord resolve(const std::string& content_id);

    // Every value of `type` under a DHT key string (not verified): what
    // other records signed against the CA (core load records) read through.
    // Failure(no_answer) when the lookup fails with nothing found.
    std::vector<RawValue> values(const std::string& key, std::uint16_t type);

    const ContentVerifier& verifier() const { return *verifier_; }
    std::shared_ptr<const ContentVerifier> shared_verifier() const { return verifier_; }
    X509* ca() const { return ca_.get(); }

private:

    X509Ptr ca_;
    std::shared_ptr<const ContentVerifier> verifier_;
    std::chrono::milliseconds timeout_;
    std::unique_ptr<OverlayNode> node_;
};

// The record's facts as JSON fields (content_id, publisher, expires, ...).
nlohmann::json content_record_json(const ContentRecord& record);

} // namespace imsp2p::dht
