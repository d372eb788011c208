#include "dht/signed_record.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

namespace imsp2p::dht {
namespace {

constexpr std::uint8_t magic[4] = {'I', 'M', 'R', '1'};
constexpr std::size_t signature_size = 64; // Ed25519

void put_be(Bytes& out, std::uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i)
        out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void put_field(Bytes& out, const std::uint8_t* data, std::size_t size, int length_bytes)
{
    put_be(out, size, length_bytes);
    out.insert(out.end(), data, data + size);
}

// Everything the signature covers, in one fixed order: the same record always
// encodes to the same bytes.
Bytes encode_fields(const Record& r)
{
    if (r.key.size() > max_key_size || r.kind.size() > 255 || r.payload.size() > max_payload_size ||
        r.signer.size() > max_signer_size)
        throw Failure(Outcome::local, fmt::format("record for {} exceeds the size limits", r.key));
    Bytes out(std::begin(magic), std::end(magic));
    out.reserve(64 + r.key.size() + r.kind.size() + r.payload.size() + r.signer.size() + signature_size);
    put_field(out, reinterpret_cast<const std::uint8_t*>(r.key.data()), r.key.size(), 2);
    put_field(out, reinterpret_cast<const std::uint8_t*>(r.kind.data()), r.kind.size(), 1);
    put_field(out, r.payload.data(), r.payload.size(), 4);
    put_be(out, r.seq, 8);
    put_be(out, static_cast<std::uint64_t>(r.expires), 8);
    put_field(out, r.signer.data(), r.signer.size(), 2);
    return out;
}

// Reads the encoding front to back; any overrun leaves ok false.
struct Reader {
    std::span<const std::uint8_t> data;
    std::size_t at = 0;
    bool ok = true;

    std::uint64_t number(int bytes)
    {
        if (!ok || data.size() - at < static_cast<std::size_t>(bytes))
            return ok = false, 0;
        std::uint64_t value = 0;
        for (int i = 0; i < bytes; ++i)
            value = (value << 8) | data[at++];
        return value;
    }
    std::span<const std::uint8_t> field(int length_bytes, std::size_t limit)
    {
        const auto size = number(length_bytes);
        if (!ok || size > limit || data.size() - at < size)
            return ok = false, std::span<const std::uint8_t>{};
        const auto out = data.subspan(at, size);
        at += size;
        return out;
    }
};

std::string fingerprint(const Bytes& der)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(der.data(), der.size(), md, &size, EVP_sha256(), nullptr) != 1)
        throw Failure(Outcome::local, "SHA-256 failed");
    return std::string(reinterpret_cast<char*>(md), size);
}

std::time_t to_time(const ASN1_TIME* time)
{
    std::tm tm{};
    return time && ASN1_TIME_to_tm(time, &tm) == 1 ? timegm(&tm) : 0;
}

} // namespace

Bytes encode_record(const Record& record, const Bytes& signature)
{
    Bytes out = encode_fields(record);
    out.insert(out.end(), signature.begin(), signature.end());
    return out;
}

std::optional<SignedRecord> decode_record(std::span<const std::uint8_t> data)
{
    if (data.size() < sizeof magic + signature_size || !std::equal(std::begin(magic), std::end(magic), data.begin()))
        return std::nullopt;
    Reader in{data, sizeof magic};
    SignedRecord out;
    const auto key = in.field(2, max_key_size);
    const auto kind = in.field(1, 255);
    const auto payload = in.field(4, max_payload_size);
    out.record.seq = in.number(8);
    out.record.expires = static_cast<std::int64_t>(in.number(8));
    const auto signer = in.field(2, max_signer_size);
    if (!in.ok || data.size() - in.at != signature_size)
        return std::nullopt;
    out.record.key.assign(key.begin(), key.end());
    out.record.kind.assign(kind.begin(), kind.end());
    out.record.payload.assign(payload.begin(), payload.end());
    out.record.signer.assign(signer.begin(), signer.end());
    out.signature.assign(data.begin() + static_cast<std::ptrdiff_t>(in.at), data.end());
    return out;
}

RecordSigner::RecordSigner(Credential credential)
    : credential_(std::move(credential)), der_(credential_.cert_der()), name_(credential_.name())
{
    if (!credential_.key() || EVP_PKEY_get_id(credential_.key()) != EVP_PKEY_ED25519)
        throw Failure(Outcome::usage, fmt::format("the credential of {} is not an Ed25519 key", name_));
}

Bytes RecordSigner::sign(Record record) const
{
    record.signer = der_;
    Bytes out = encode_fields(record);
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t size = signature_size;
    out.resize(out.size() + signature_size);
    const std::size_t signed_size = out.size() - signature_size;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, credential_.key()) != 1 ||
        EVP_DigestSign(ctx.get(), out.data() + signed_size, &size, out.data(), signed_size) != 1 ||
        size != signature_size) {
        ERR_clear_error();
        throw Failure(Outcome::local, fmt::format("cannot sign a record for {}", record.key));
    }
    return out;
}

std::string_view verdict_name(Verdict verdict)
{
    switch (verdict) {
    case Verdict::ok: return "ok";
    case Verdict::malformed: return "malformed";
    case Verdict::expired: return "expired";
    case Verdict::wrong_key: return "wrong-key";
    case Verdict::untrusted_signer: return "untrusted-signer";
    case Verdict::bad_signature: return "bad-signature";
    }
    return "malformed";
}

Verifier::Verifier(X509Ptr ca, std::size_t cache_size)
    : ca_(std::move(ca)), cache_size_(std::max<std::size_t>(1, cache_size))
{
    if (!ca_)
        throw Failure(Outcome::usage, "the verifier needs the overlay CA certificate");
}

std::shared_ptr<const Verifier::Signer> Verifier::signer(const Bytes& der, std::time_t now, std::string& why,
                                                         std::string& name) const
{
    const auto print = fingerprint(der);
    std::shared_ptr<const Signer> found;
    {
        std::lock_guard lock(mutex_);
        if (const auto it = cache_.find(print); it != cache_.end())
            found = it->second;
    }
    if (found) {
        name = found->name;
        if (now < found->not_before || now > found->not_after) {
            why = fmt::format("certificate of {} not valid now", found->name);
            return nullptr;
        }
        return found;
    }
    // Not seen yet: the full X.509 check. Refusals are not remembered, so a
    // flood of junk certificates cannot push the good ones out of the cache.
    const auto cert = certificate_from_der(der);
    if (!cert) {
        why = "signer certificate unreadable";
        return nullptr;
    }
    name = certificate_name(cert.get());
    if (EVP_PKEY_get_id(X509_get0_pubkey(cert.get())) != EVP_PKEY_ED25519) {
        why = "signer key is not Ed25519";
        return nullptr;
    }
    if (auto reason = verify_issued(ca_.get(), cert.get(), now); !reason.empty()) {
        why = fmt::format("signer {}: {}", name, reason);
        return nullptr;
    }
    auto entry = std::make_shared<Signer>();
    EVP_PKEY* key = X509_get0_pubkey(cert.get());
    EVP_PKEY_up_ref(key);
    entry->key.reset(key, EVP_PKEY_free);
    entry->not_before = std::max(to_time(X509_get0_notBefore(cert.get())), to_time(X509_get0_notBefore(ca_.get())));
    entry->not_after = std::min(to_time(X509_get0_notAfter(cert.get())), to_time(X509_get0_notAfter(ca_.get())));
    entry->name = name;
    std::lock_guard lock(mutex_);
    if (cache_.emplace(print, entry).second) {
        order_.push_back(print);
        if (order_.size() > cache_size_) {
            cache_.erase(order_.front());
            order_.pop_front();
        }
    }
    return entry;
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
    if (out.record.expires <= now) {
        out.verdict = Verdict::expired;
        return out;
    }
    const auto signer = this->signer(out.record.signer, now, out.why, out.signer_name);
    if (!signer) {
        out.verdict = Verdict::untrusted_signer;
        return out;
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const std::size_t signed_size = data.size() - signature_size;
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, signer->key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), decoded->signature.data(), signature_size, data.data(), signed_size) != 1) {
        ERR_clear_error();
        out.verdict = Verdict::bad_signature;
        out.why = fmt::format("signature does not match (signer {})", signer->name);
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

std::size_t Verifier::cached_signers() const
{
    std::lock_guard lock(mutex_);
    return cache_.size();
}

} // namespace imsp2p::dht
