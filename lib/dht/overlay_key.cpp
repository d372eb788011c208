#include "dht/overlay_key.hpp"

#include "cli/outcome.hpp"
#include "dht/state_files.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>

namespace imsp2p::dht {

// Fetching the HMAC implementation and setting the key cost more than the MAC
// of a small record under OpenSSL 3: done once, and each call copies the keyed
// context.
struct OverlayKey::Context {
    EVP_MAC* mac = nullptr;
    EVP_MAC_CTX* keyed = nullptr;
    ~Context()
    {
        EVP_MAC_CTX_free(keyed);
        EVP_MAC_free(mac);
    }
};

OverlayKey::OverlayKey(const Bytes& key) : raw_(key)
{
    auto context = std::make_shared<Context>();
    context->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    context->keyed = context->mac ? EVP_MAC_CTX_new(context->mac) : nullptr;
    char digest[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
    if (!context->keyed || EVP_MAC_init(context->keyed, key.data(), key.size(), params) != 1) {
        ERR_clear_error();
        throw Failure(Outcome::local, "OpenSSL cannot set up HMAC-SHA256");
    }
    context_ = std::move(context);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (EVP_Digest(key.data(), key.size(), md, &size, EVP_sha256(), nullptr) != 1)
        throw Failure(Outcome::local, "OpenSSL SHA-256 failed");
    std::copy_n(md, id_.size(), id_.begin());
}

OverlayKey OverlayKey::generate()
{
    const auto raw = random_bytes(overlay_key_size);
    return OverlayKey(Bytes(raw.begin(), raw.end()));
}

OverlayKey OverlayKey::load(const std::filesystem::path& file)
{
    auto text = read_file(file);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    const auto key = from_hex(text);
    if (!key || key->size() != overlay_key_size)
        throw Failure(Outcome::usage, fmt::format("{}: not an overlay key ({} hex digits expected)", file.string(),
                                                  2 * overlay_key_size));
    struct stat info{};
    if (::stat(file.c_str(), &info) == 0 && (info.st_mode & 077) != 0)
        throw Failure(Outcome::usage, fmt::format("{}: readable by others (mode {:o}); it must be 0600 like a private key",
                                                  file.string(), info.st_mode & 0777));
    return OverlayKey(*key);
}

void OverlayKey::save(const std::filesystem::path& file) const
{
    write_file(file, to_hex(raw_.data(), raw_.size()) + "\n", 0600, true);
}

OverlayMac OverlayKey::mac(std::span<const std::uint8_t> data) const
{
    OverlayMac out{};
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_dup(context_->keyed), EVP_MAC_CTX_free);
    std::size_t size = 0;
    if (!ctx || EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &size, out.size()) != 1 || size != out.size()) {
        ERR_clear_error();
        throw Failure(Outcome::local, "OpenSSL HMAC-SHA256 failed");
    }
    return out;
}

} // namespace imsp2p::dht
