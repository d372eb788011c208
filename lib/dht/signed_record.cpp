#include "dht/signed_record.hpp"

#include "cli/outcome.hpp"
#include "dht/record_codec.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>

namespace imsp2p::dht {
namespace {

constexpr std::uint8_t magic[4] = {'I', 'M', 'R', '2'};
constexpr std::size_t trailer_size = overlay_key_id_size + overlay_mac_size;

// Everything the MAC covers but the key id, in one fixed order: the same
// record always encodes to the same bytes.
Bytes encode_fields(const Record& r)
{
    if (r.key.size() > max_key_size || r.kind.size() > 255 || r.payload.size() > max_payload_size ||
        r.writer.size() > max_writer_size)
        throw Failure(Outcome::local, fmt::format("record for {} exceeds the size limits", r.key));
    Bytes out(std::begin(magic), std::end(magic));
    out.reserve(64 + r.key.size() + r.kind.size() + r.payload.size() + r.writer.size() + trailer_size);
    put_field(out, r.key.data(), r.key.size(), 2);
    put_field(out, r.kind.data(), r.kind.size(), 1);
    put_field(out, r.payload.data(), r.payload.size(), 4);
    put_be(out, r.seq, 8);
    put_be(out, static_cast<std::uint64_t>(r.expires), 8);
    put_field(out, r.writer.data(), r.writer.size(), 1);
    return out;
}

} // namespace

Bytes encode_record(const Record& record, const OverlayKeyId& key_id, const OverlayMac& mac)
{
    Bytes out = encode_fields(record);
    out.insert(out.end(), key_id.begin(), key_id.end());
    out.insert(out.end(), mac.begin(), mac.end());
    return out;
}

std::optional<SignedRecord> decode_record(std::span<const std::uint8_t> data)
{
    if (data.size() < sizeof magic + trailer_size || !std::equal(std::begin(magic), std::end(magic), data.begin()))
        return std::nullopt;
    FieldReader in{data, sizeof magic};
    SignedRecord out;
    const auto key = in.field(2, max_key_size);
    const auto kind = in.field(1, 255);
    const auto payload = in.field(4, max_payload_size);
    out.record.seq = in.number(8);
    out.record.expires = static_cast<std::int64_t>(in.number(8));
    const auto writer = in.field(1, max_writer_size);
    if (!in.ok || data.size() - in.at != trailer_size)
        return std::nullopt;
    out.record.key.assign(key.begin(), key.end());
    out.record.kind.assign(kind.begin(), kind.end());
    out.record.payload.assign(payload.begin(), payload.end());
    out.record.writer.assign(writer.begin(), writer.end());
    std::copy_n(data.begin() + static_cast<std::ptrdiff_t>(in.at), out.key_id.size(), out.key_id.begin());
    std::copy_n(data.end() - static_cast<std::ptrdiff_t>(out.mac.size()), out.mac.size(), out.mac.begin());
    return out;
}

RecordSigner::RecordSigner(OverlayKey key, std::string name) : key_(std::move(key)), name_(std::move(name))
{
    if (name_.empty() || name_.size() > max_writer_size)
        throw Failure(Outcome::usage, "a record writer needs a name of 1 to 255 bytes");
}

Bytes RecordSigner::sign(Record record) const
{
    record.writer = name_;
    Bytes out = encode_fields(record);
    out.insert(out.end(), key_.id().begin(), key_.id().end());
    const auto mac = key_.mac(out);
    out.insert(out.end(), mac.begin(), mac.end());
    return out;
}

std::string_view verdict_name(Verdict verdict)
{
    switch (verdict) {
    case Verdict::ok: return "ok";
    case Verdict::malformed: return "malformed";
    case Verdict::expired: return "expired";
    case Verdict::wrong_key: return "wrong-key";
    case Verdict::unknown_overlay_key: return "unknown-overlay-key";
    case Verdict::bad_mac: return "bad-mac";
    }
    return "malformed";
}

Checked Verifier::check(std::span<const std::uint8_t> data, std::time_t now) const
{
    Checked out;
    auto decoded = decode_record(data);
    if (!decoded) {
        out.why = "not an overlay record";
        return out;
    }
    out.record = std::move(decoded->record);
    out.writer = out.record.writer;
    if (out.record.expires <= now) {
        out.verdict = Verdict::expired;
        return out;
    }
    if (decoded->key_id != key_.id()) {
        out.verdict = Verdict::unknown_overlay_key;
        out.why = fmt::format("under overlay key {}, not ours ({})", to_hex(decoded->key_id.data(), decoded->key_id.size()),
                              to_hex(key_.id().data(), key_.id().size()));
        return out;
    }
    const auto expected = key_.mac(data.first(data.size() - overlay_mac_size));
    if (CRYPTO_memcmp(expected.data(), decoded->mac.data(), expected.size()) != 0) {
        out.verdict = Verdict::bad_mac;
        out.why = fmt::format("MAC does not match (writer claims to be {})", out.writer);
        return out;
    }
    out.verdict = Verdict::ok;
    return out;
}

Checked Verifier::check(std::span<const std::uint8_t> data, std::string_view key, std::time_t now) const
{
    auto out = check(data, now);
    if (out.ok() && out.record.key != key) {
        out.verdict = Verdict::wrong_key;
        out.why = fmt::format("written for {}", out.record.key);
    }
    return out;
}

} // namespace imsp2p::dht
