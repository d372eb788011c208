// Content records of the managed overlay (DESIGN.md §4): a content id mapped
// to its swarm (info-hashes, magnet), its KID and licence server, stored under
// "content:ID" beside the core nodes' bindings.
//
// Who may write one: a publisher holding a certificate from the overlay CA
// (`p2p-node ca issue NAME`). Bindings carry a MAC under the overlay key,
// which only core nodes hold; a publisher or UE given that key could forge
// bindings, so content records are signed with the publisher's Ed25519 key
// instead and readers need ca.crt only. The signature covers every field,
// the DHT key included, so a record cannot be replayed under another content
// id or with another sequence number. One Ed25519 check (~150 us) per record
// is affordable here: content records are written once an hour, not once per
// registration.
//
// The payload is JSON (nlohmann-json): a handful of optional text fields read
// by people and tools (overlay-probe prints them), written rarely, so a
// compact binary layout would save bytes nobody misses and cost a second
// encoder to keep in step. The signature covers the exact bytes sent, so the
// JSON needs no canonical form.
#pragma once

#include "dht/overlay_ca.hpp"
#include "util/hex.hpp"

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace imsp2p::dht {

// What a content record says (the signed JSON payload).
struct ContentInfo {
    std::string content_id;     // 1-128 of [A-Za-z0-9._~-]
    std::string info_hash_v1;   // 40 hex digits, or empty
    std::string info_hash_v2;   // 64 hex digits, or empty (one of the two at least)
    std::string magnet;
    std::string kid;            // 32 hex digits; empty for content in the clear
    std::string license_server; // http(s) URL, or empty
    std::string name;
    std::int64_t size = 0;      // plaintext bytes
    std::string publisher;      // the CN of the signing certificate
};

struct ContentRecord {
    ContentInfo info;
    std::uint64_t seq = 0;    // ms since the epoch at signing: the newest wins
    std::int64_t expires = 0; // unix seconds
};

// Limits, so that a hostile value costs little to refuse.
inline constexpr std::size_t max_content_payload = 8 * 1024;
inline constexpr std::size_t max_content_signer = 4096;
inline constexpr std::int64_t max_content_lifetime = 24 * 3600; // as long as our nodes keep a value

std::string content_key(std::string_view content_id); // "content:ID", the DHT key string
// Failure(usage) naming `what` unless 1-128 of [A-Za-z0-9._~-].
void check_content_id(const std::string& content_id, std::string_view what);
// The value id of a publisher's record for a content id: the same publisher
// republishing replaces its own record; two publishers never share a slot.
std::uint64_t content_value_id(std::string_view publisher, std::string_view content_id);

class ContentSigner {
public:
    // Failure(usage) unless an Ed25519 credential.
    explicit ContentSigner(Credential credential);
    // The encoded signed record (info.publisher set to this credential's CN).
    // Failure(usage) for fields out of bounds.
    Bytes sign(ContentRecord record) const;
    const std::string& name() const { return name_; }

private:
    Credential credential_;
    Bytes der_;
    std::string name_;
};

enum class ContentVerdict { ok, malformed, expired, wrong_key, untrusted_signer, bad_signature };
std::string_view verdict_name(ContentVerdict verdict);

struct ContentChecked {
    ContentVerdict verdict = ContentVerdict::malformed;
    std::string why;       // details when not ok
    ContentRecord record;  // meaningful when ok
    std::string key;       // the DHT key string it was written for (when decodable)
    std::string publisher; // CN of the signer, when readable (trusted or not: for the logs)
    bool ok() const { return verdict == ContentVerdict::ok; }
};

struct ContentEnvelope;

// Checks content records against the overlay CA. Signer certificates that
// chained to it are remembered by SHA-256 fingerprint (a bounded FIFO), so
// the X.509 path check runs once per publisher and each record costs one
// Ed25519 check. Thread-safe: OpenDHT's store policies call it.
class ContentVerifier {
public:
    explicit ContentVerifier(X509Ptr ca, std::size_t cache_size = 1024);

    // Format, expiry (`now`, unix seconds), signer chain, signature, payload.
    ContentChecked check(std::span<const std::uint8_t> data, std::time_t now) const;
    // ...and that it was written for content_key(content_id).
    ContentChecked check(std::span<const std::uint8_t> data, std::string_view content_id, std::time_t now) const;
    std::size_t cached_signers() const;

    // The envelope alone, whatever its payload (load_record.hpp shares it):
    // format, expiry at most max_lifetime ahead, signer chain, signature.
    // Verdict ok (record.info left empty) with `envelope` filled, or why not;
    // `publisher` names the signer when readable.
    ContentChecked check_envelope(std::span<const std::uint8_t> data, std::time_t now, std::int64_t max_lifetime,
                                  ContentEnvelope& envelope) const;

private:
    struct Signer {
        std::shared_ptr<EVP_PKEY> key;
        std::time_t not_before = 0, not_after = 0;
        std::string name;
    };
    std::shared_ptr<const Signer> signer(const Bytes& der, std::time_t now, std::string& why, std::string& name) const;

    X509Ptr ca_;
    std::size_t cache_size_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const Signer>> cache_; // by fingerprint
    mutable std::deque<std::string> order_;                                       // oldest first
};

// Exposed for tests: the envelope without any check (nullopt: malformed).
struct ContentEnvelope {
    std::string key;
    Bytes payload;
    std::uint64_t seq = 0;
    std::int64_t expires = 0;
    Bytes signer;     // DER
    Bytes signature;  // Ed25519, over everything before it
};
std::optional<ContentEnvelope> decode_content_envelope(std::span<const std::uint8_t> data);
Bytes encode_content_envelope(const ContentEnvelope& envelope); // with envelope.signature appended
// The envelope signed with an Ed25519 credential (envelope.signer and
// .signature set here). Failure(local) when signing fails.
Bytes sign_content_envelope(const Credential& credential, ContentEnvelope envelope);

} // namespace imsp2p::dht
