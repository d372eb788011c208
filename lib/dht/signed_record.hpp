// Values of the managed overlay: a record with an HMAC-SHA256 under the
// overlay key (overlay_key.hpp), which only the CA's core nodes hold.
//
// Why a MAC and not a signature per value: every registration is checked by
// each node that stores it, by readers, and by the caches its change notice
// reaches, about seven checks across a 3-node core. Ed25519 verification costs
// ~150 µs on this class of machine (RSA through OpenDHT's putSigned ~7 ms);
// measured, it was 40-50% of the core's CPU per registration. An HMAC of a
// small record costs about 1 µs. What is given up: a record names its writer,
// but any key holder could claim another name, so attribution rests on the
// trust already placed in every core node; expelling a node means a new key.
//
// The MAC covers every field, the DHT key included, so a value cannot be
// replayed under another key, as another kind, or with another sequence.
#pragma once

#include "dht/overlay_key.hpp"
#include "util/hex.hpp"

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace imsp2p::dht {

struct Record {
    std::string key;          // the DHT key string (e.g. the canonical AOR); the DHT stores it under its hash
    std::string kind;         // what the payload is, e.g. "binding"
    Bytes payload;
    std::uint64_t seq = 0;    // a higher one replaces a lower one of the same value id (e.g. ms since the epoch)
    std::int64_t expires = 0; // unix seconds; readers drop the record after
    std::string writer;       // the writing node's name (filled by RecordSigner)
};

// Limits of the encoding, so that a hostile value costs little to refuse.
inline constexpr std::size_t max_key_size = 1024;
inline constexpr std::size_t max_payload_size = 16 * 1024;
inline constexpr std::size_t max_writer_size = 255;

struct SignedRecord {
    Record record;
    OverlayKeyId key_id{};    // which overlay key the MAC is under
    OverlayMac mac{};         // over everything encoded before it
};

// The compact length-prefixed encoding (magic "IMR2", big-endian lengths).
Bytes encode_record(const Record& record, const OverlayKeyId& key_id, const OverlayMac& mac);
std::optional<SignedRecord> decode_record(std::span<const std::uint8_t> data); // nullopt: malformed

class RecordSigner {
public:
    RecordSigner(OverlayKey key, std::string name); // name: this node's, written into its records
    Bytes sign(Record record) const;                // the encoded record with its MAC; thread-safe
    const std::string& name() const { return name_; }

private:
    OverlayKey key_;
    std::string name_;
};

enum class Verdict { ok, malformed, expired, wrong_key, unknown_overlay_key, bad_mac };
std::string_view verdict_name(Verdict verdict);

struct Checked {
    Verdict verdict = Verdict::malformed;
    std::string why;          // details when not ok
    Record record;            // what the record says (meaningful when ok)
    std::string writer;       // the writer the record names (trusted or not: for the logs)
    bool ok() const { return verdict == Verdict::ok; }
};

// Checks records against the overlay key. Thread-safe: OpenDHT's store
// policies and readers call it from their threads.
class Verifier {
public:
    explicit Verifier(OverlayKey key) : key_(std::move(key)) {}

    // Everything but the DHT key: format, expiry (`now`, unix seconds), MAC.
    Checked check(std::span<const std::uint8_t> data, std::time_t now) const;
    // ...and that the record was written for `key`.
    Checked check(std::span<const std::uint8_t> data, std::string_view key, std::time_t now) const;

private:
    OverlayKey key_;
};

} // namespace imsp2p::dht
