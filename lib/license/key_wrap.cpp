#include "license/key_wrap.hpp"

#include "cli/outcome.hpp"
#include "dht/state_files.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <fstream>
#include <memory>

namespace imsp2p::license {
namespace {

constexpr size_t nonce_size = 12, tag_size = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

} // namespace

MasterKey MasterKey::load_or_create(const std::filesystem::path& file)
{
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        const std::string raw = random_bytes(32);
        dht::write_file(file, to_hex(reinterpret_cast<const std::uint8_t*>(raw.data()), raw.size()) + "\n", 0600, true);
        return MasterKey(raw);
    }
    std::ifstream in(file);
    std::string text;
    if (!in || !(in >> text))
        throw Failure(Outcome::usage, fmt::format("{}: cannot read the master key", file.string()));
    const auto bytes = from_hex(text);
    if (!bytes || bytes->size() != 32)
        throw Failure(Outcome::usage, fmt::format("{}: not a master key (expected 64 hex digits)", file.string()));
    return MasterKey(std::string(bytes->begin(), bytes->end()));
}

std::string MasterKey::seal(const std::string& kid, const std::string& key) const
{
    const std::string nonce = random_bytes(nonce_size);
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    std::string out = nonce;
    out.resize(nonce_size + key.size() + tag_size);
    auto u = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
    auto* data = reinterpret_cast<unsigned char*>(out.data());
    int len = 0;
    if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(raw_), u(nonce)) != 1 ||
        EVP_EncryptUpdate(ctx.get(), nullptr, &len, u(kid), static_cast<int>(kid.size())) != 1 ||
        EVP_EncryptUpdate(ctx.get(), data + nonce_size, &len, u(key), static_cast<int>(key.size())) != 1 ||
        EVP_EncryptFinal_ex(ctx.get(), data + nonce_size + len, &len) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size, data + nonce_size + key.size()) != 1)
        throw Failure(Outcome::local, "OpenSSL AES-GCM encryption failed");
    return out;
}

std::optional<std::string> MasterKey::open(const std::string& kid, const std::string& sealed) const
{
    if (sealed.size() < nonce_size + tag_size)
        return std::nullopt;
    const size_t size = sealed.size() - nonce_size - tag_size;
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    std::string key(size, '\0');
    auto u = [](const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); };
    const auto* in = u(sealed);
    std::string tag = sealed.substr(nonce_size + size);
    int len = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, u(raw_), in) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, u(kid), static_cast<int>(kid.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(key.data()), &len, in + nonce_size,
                          static_cast<int>(size)) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(key.data()) + len, &len) != 1)
        return std::nullopt;
    return key;
}

} // namespace imsp2p::license
