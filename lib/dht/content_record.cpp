#include "dht/content_record.hpp"

#include "cli/outcome.hpp"
#include "dht/record_codec.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <regex>

namespace imsp2p::dht {
namespace {

constexpr std::uint8_t magic[4] = {'I', 'M', 'C', '1'};
constexpr std::size_t signature_size = 64; // Ed25519
constexpr std::size_t max_key = 256;       // "content:" and 128 characters fit well
constexpr std::string_view key_prefix = "content:";

bool is_hex(const std::string& text, std::size_t size)
{
    return text.size() == size && std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c); });
}

bool valid_content_id(const std::string& id)
{
    static const std::regex pattern("[A-Za-z0-9._~-]{1,128}");
    return std::regex_match(id, pattern);
}

// Empty when the fields are within bounds; otherwise what is wrong.
std::string invalid_field(const ContentInfo& info)
{
    if (!valid_content_id(info.content_id))
        return "content id is not 1-128 of [A-Za-z0-9._~-]";
    if (!info.info_hash_v1.empty() && !is_hex(info.info_hash_v1, 40))
        return "info_hash_v1 is not 40 hex digits";
    if (!info.info_hash_v2.empty() && !is_hex(info.info_hash_v2, 64))
        return "info_hash_v2 is not 64 hex digits";
    if (info.info_hash_v1.empty() && info.info_hash_v2.empty())
        return "no info-hash";
    if (!info.magnet.starts_with("magnet:?") || info.magnet.size() > 4096)
        return "magnet is not a magnet link of at most 4096 bytes";
    if (!info.kid.empty() && !is_hex(info.kid, 32))
        return "kid is not 32 hex digits";
    if (!info.license_server.empty() &&
        ((!info.license_server.starts_with("http://") && !info.license_server.starts_with("https://")) ||
         info.license_server.size() > 1024))
        return "license_server is not an http(s) URL of at most 1024 bytes";
    if (info.name.size() > 1024)
        return "name longer than 1024 bytes";
    if (info.size < 0)
        return "negative size";
    if (info.publisher.empty() || info.publisher.size() > 255)
        return "publisher is not 1-255 bytes";
    return {};
}

Bytes payload_of(const ContentInfo& info)
{
    nlohmann::json json{{"content_id", info.content_id}, {"magnet", info.magnet}, {"name", info.name},
                        {"size", info.size}, {"publisher", info.publisher}};
    auto optional = [&json](const char* name, const std::string& value) {
        if (!value.empty())
            json[name] = value;
    };
    optional("info_hash_v1", info.info_hash_v1);
    optional("info_hash_v2", info.info_hash_v2);
    optional("kid", info.kid);
    optional("license_server", info.license_server);
    const std::string text = json.dump();
    return Bytes(text.begin(), text.end());
}

// The payload's fields; nullopt when it is not the JSON object we write.
std::optional<ContentInfo> info_of(const Bytes& payload)
{
    const auto json = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
    if (!json.is_object())
        return std::nullopt;
    ContentInfo info;
    auto text = [&json](const char* name, std::string& out) {
        const auto it = json.find(name);
        if (it == json.end())
            return true;
        if (!it->is_string())
            return false;
        out = it->get<std::string>();
        return true;
    };
    const auto size = json.find("size");
    if (size == json.end() || !size->is_number_integer())
        return std::nullopt;
    info.size = size->get<std::int64_t>();
    if (!text("content_id", info.content_id) || !text("info_hash_v1", info.info_hash_v1) ||
        !text("info_hash_v2", info.info_hash_v2) || !text("magnet", info.magnet) || !text("kid", info.kid) ||
        !text("license_server", info.license_server) || !text("name", info.name) || !text("publisher", info.publisher))
        return std::nullopt;
    return info;
}

Bytes signed_part(const ContentEnvelope& e)
{
    Bytes out(std::begin(magic), std::end(magic));
    out.reserve(64 + e.key.size() + e.payload.size() + e.signer.size() + signature_size);
    put_field(out, e.key.data(), e.key.size(), 2);
    put_field(out, e.payload.data(), e.payload.size(), 4);
    put_be(out, e.seq, 8);
    put_be(out, static_cast<std::uint64_t>(e.expires), 8);
    put_field(out, e.signer.data(), e.signer.size(), 2);
    return out;
}

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

using MdContext = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

} // namespace

std::string content_key(std::string_view content_id)
{
    return std::string(key_prefix) + std::string(content_id);
}

void check_content_id(const std::string& content_id, std::string_view what)
{
    if (!valid_content_id(content_id))
        throw Failure(Outcome::usage,
                      fmt::format("invalid {} '{}': use 1 to 128 letters, digits, '.', '_', '~', '-'", what, content_id));
}

std::uint64_t content_value_id(std::string_view publisher, std::string_view content_id)
{
    const std::string text = fmt::format("{}\n{}", publisher, content_id);
    const auto digest = fingerprint(Bytes(text.begin(), text.end()));
    std::uint64_t id = 0;
    for (int i = 0; i < 8; ++i)
        id = (id << 8) | static_cast<unsigned char>(digest[static_cast<std::size_t>(i)]);
    return id ? id : 1; // 0 is OpenDHT's "no id"
}

Bytes encode_content_envelope(const ContentEnvelope& envelope)
{
    Bytes out = signed_part(envelope);
    out.insert(out.end(), envelope.signature.begin(), envelope.signature.end());
    return out;
}

std::optional<ContentEnvelope> decode_content_envelope(std::span<const std::uint8_t> data)
{
    if (data.size() < sizeof magic + signature_size || !std::equal(std::begin(magic), std::end(magic), data.begin()))
        return std::nullopt;
    FieldReader in{data, sizeof magic};
    ContentEnvelope out;
    const auto key = in.field(2, max_key);
    const auto payload = in.field(4, max_content_payload);
    out.seq = in.number(8);
    out.expires = static_cast<std::int64_t>(in.number(8));
    const auto signer = in.field(2, max_content_signer);
    if (!in.ok || data.size() - in.at != signature_size)
        return std::nullopt;
    out.key.assign(key.begin(), key.end());
    out.payload.assign(payload.begin(), payload.end());
    out.signer.assign(signer.begin(), signer.end());
    out.signature.assign(data.begin() + static_cast<std::ptrdiff_t>(in.at), data.end());
    return out;
}

ContentSigner::ContentSigner(Credential credential)
    : credential_(std::move(credential)), der_(credential_.cert_der()), name_(credential_.name())
{
    if (!credential_.key() || EVP_PKEY_get_id(credential_.key()) != EVP_PKEY_ED25519)
        throw Failure(Outcome::usage, fmt::format("the credential of {} is not an Ed25519 key", name_));
}

Bytes sign_content_envelope(const Credential& credential, ContentEnvelope envelope)
{
    envelope.signer = credential.cert_der();
    Bytes out = signed_part(envelope);
    const std::size_t signed_size = out.size();
    out.resize(signed_size + signature_size);
    std::size_t size = signature_size;
    MdContext ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, credential.key()) != 1 ||
        EVP_DigestSign(ctx.get(), out.data() + signed_size, &size, out.data(), signed_size) != 1 || size != signature_size) {
        ERR_clear_error();
        throw Failure(Outcome::local, fmt::format("cannot sign the record for {}", envelope.key));
    }
    return out;
}

Bytes ContentSigner::sign(ContentRecord record) const
{
    record.info.publisher = name_;
    if (const auto why = invalid_field(record.info); !why.empty())
        throw Failure(Outcome::usage, fmt::format("content record for {}: {}", record.info.content_id, why));
    ContentEnvelope envelope{content_key(record.info.content_id), payload_of(record.info), record.seq, record.expires, der_, {}};
    if (envelope.payload.size() > max_content_payload || der_.size() > max_content_signer)
        throw Failure(Outcome::usage, fmt::format("content record for {} exceeds the size limits", record.info.content_id));
    return sign_content_envelope(credential_, std::move(envelope));
}

std::string_view verdict_name(ContentVerdict verdict)
{
    switch (verdict) {
    case ContentVerdict::ok: return "ok";
    case ContentVerdict::malformed: return "malformed";
    case ContentVerdict::expired: return "expired";
    case ContentVerdict::wrong_key: return "wrong-key";
    case ContentVerdict::untrusted_signer: return "untrusted-signer";
    case ContentVerdict::bad_signature: return "bad-signature";
    }
    return "malformed";
}

ContentVerifier::ContentVerifier(X509Ptr ca, std::size_t cache_size)
    : ca_(std::move(ca)), cache_size_(std::max<std::size_t>(1, cache_size))
{
    if (!ca_)
        throw Failure(Outcome::usage, "the content verifier needs the overlay CA certificate");
}

std::shared_ptr<const ContentVerifier::Signer> ContentVerifier::signer(const Bytes& der, std::time_t now, std::string& why,
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
        why = fmt::format("publisher {} not certified by the overlay CA: {}", name, reason);
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

ContentChecked ContentVerifier::check_envelope(std::span<const std::uint8_t> data, std::time_t now,
                                              std::int64_t max_lifetime, ContentEnvelope& envelope) const
{
    ContentChecked out;
    auto decoded = decode_content_envelope(data);
    if (!decoded) {
        out.why = "not a signed record";
        return out;
    }
    envelope = std::move(*decoded);
    out.key = envelope.key;
    out.record.seq = envelope.seq;
    out.record.expires = envelope.expires;
    if (envelope.expires <= now) {
        out.verdict = ContentVerdict::expired;
        out.why = fmt::format("expired {} s ago", now - envelope.expires);
        return out;
    }
    if (envelope.expires > now + max_lifetime) {
        out.why = fmt::format("expires {} s ahead, beyond the {} s a record may live", envelope.expires - now, max_lifetime);
        return out;
    }
    const auto signer = this->signer(envelope.signer, now, out.why, out.publisher);
    if (!signer) {
        out.verdict = ContentVerdict::untrusted_signer;
        return out;
    }
    MdContext ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    const std::size_t signed_size = data.size() - signature_size;
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, signer->key.get()) != 1 ||
        EVP_DigestVerify(ctx.get(), envelope.signature.data(), signature_size, data.data(), signed_size) != 1) {
        ERR_clear_error();
        out.verdict = ContentVerdict::bad_signature;
        out.why = fmt::format("signature does not match (signer {})", signer->name);
        return out;
    }
    out.verdict = ContentVerdict::ok;
    return out;
}

ContentChecked ContentVerifier::check(std::span<const std::uint8_t> data, std::time_t now) const
{
    ContentEnvelope envelope;
    auto out = check_envelope(data, now, max_content_lifetime, envelope);
    if (!out.ok())
        return out;
    out.verdict = ContentVerdict::malformed;
    const std::string* signer = &out.publisher;
    // Signed by a certified publisher: only now is the JSON worth parsing.
    auto info = info_of(envelope.payload);
    if (!info) {
        out.why = "payload is not a content record's JSON";
        return out;
    }
    if (auto why = invalid_field(*info); !why.empty()) {
        out.why = std::move(why);
        return out;
    }
    if (info->publisher != *signer) {
        out.why = fmt::format("payload names publisher '{}', the certificate '{}'", info->publisher, *signer);
        return out;
    }
    if (envelope.key != content_key(info->content_id)) {
        out.verdict = ContentVerdict::wrong_key;
        out.why = fmt::format("record of {} stored as {}", info->content_id, envelope.key);
        return out;
    }
    out.record.info = std::move(*info);
    out.verdict = ContentVerdict::ok;
    return out;
}

ContentChecked ContentVerifier::check(std::span<const std::uint8_t> data, std::string_view content_id, std::time_t now) const
{
    auto out = check(data, now);
    if (out.ok() && out.record.info.content_id != content_id) {
        out.verdict = ContentVerdict::wrong_key;
        out.why = fmt::format("written for {}", out.key);
    }
    return out;
}

std::size_t ContentVerifier::cached_signers() const
{
    std::lock_guard lock(mutex_);
    return cache_.size();
}

} // namespace imsp2p::dht
