// Values of the managed overlay: a record signed by the node that wrote it,
// with a certificate from the overlay CA. One Ed25519 signature per record
// (tens of µs) instead of OpenDHT's putSigned (RSA, ~7 CPU-ms a value), and
// the signature covers every field, the key included, so a value cannot be
// replayed under another key, as another kind, or with another sequence.
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

struct Record {
    std::string key;          // the DHT key string (e.g. the canonical AOR); the DHT stores it under its hash
    std::string kind;         // what the payload is, e.g. "binding"
    Bytes payload;
    std::uint64_t seq = 0;    // a higher one replaces a lower one of the same value id (e.g. ms since the epoch)
    std::int64_t expires = 0; // unix seconds; readers drop the record after
    Bytes signer;             // the signer's certificate, DER (filled by RecordSigner)
};

// Limits of the encoding, so that a hostile value costs little to refuse.
inline constexpr std::size_t max_key_size = 1024;
inline constexpr std::size_t max_payload_size = 16 * 1024;
inline constexpr std::size_t max_signer_size = 4096;

struct SignedRecord {
    Record record;
    Bytes signature;          // Ed25519, over everything encoded before it
};

// The compact length-prefixed encoding (magic "IMR1", big-endian lengths).
Bytes encode_record(const Record& record, const Bytes& signature);
std::optional<SignedRecord> decode_record(std::span<const std::uint8_t> data); // nullopt: malformed

class RecordSigner {
public:
    explicit RecordSigner(Credential credential); // Failure(usage) if not an Ed25519 credential
    Bytes sign(Record record) const;              // the encoded signed record; thread-safe
    const std::string& name() const { return name_; }

private:
    Credential credential_;
    Bytes der_;
    std::string name_;
};

enum class Verdict { ok, malformed, expired, wrong_key, untrusted_signer, bad_signature };
std::string_view verdict_name(Verdict verdict);

struct Checked {
    Verdict verdict = Verdict::malformed;
    std::string why;          // details when not ok (e.g. OpenSSL's reason for an untrusted signer)
    Record record;            // what the record says (meaningful when ok)
    std::string signer_name;  // CN of the signer's certificate, when readable (trusted or not: for the logs)
    bool ok() const { return verdict == Verdict::ok; }
};

// Checks records against the overlay CA. Signer certificates that chained to
// the CA are remembered by SHA-256 fingerprint (a bounded FIFO), so the X.509
// path check runs once per signer and each record costs one Ed25519 check.
// Thread-safe: OpenDHT's store policies and readers call it from their threads.
class Verifier {
public:
    explicit Verifier(X509Ptr ca, std::size_t cache_size = 10'000);

    // Everything but the key: format, expiry (`now`, unix seconds), signer, signature.
    Checked check(std::span<const std::uint8_t> data, std::time_t now) const;
    // ...and that the record was written for `key`.
    Checked check(std::span<const std::uint8_t> data, std::string_view key, std::time_t now) const;

    std::size_t cached_signers() const;

private:
    struct Signer {
        std::shared_ptr<EVP_PKEY> key;
        std::time_t not_before = 0, not_after = 0;
        std::string name;
    };
    // The signer of a trusted certificate, or null with `why` set; `name`
    // gets the certificate's CN either way.
    std::shared_ptr<const Signer> signer(const Bytes& der, std::time_t now, std::string& why, std::string& name) const;

    X509Ptr ca_;
    std::size_t cache_size_;
    mutable std::mutex mutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const Signer>> cache_; // by fingerprint
    mutable std::deque<std::string> order_;                                       // oldest first
};

} // namespace imsp2p::dht
