#include "swarm/content_header.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstring>

namespace imsp2p::swarm {
namespace {

constexpr std::array<std::uint8_t, 7> magic{'I', 'M', 'S', 'P', 'E', 'N', 'C'};
constexpr std::size_t checked_size = 48; // bytes covered by the key check

std::array<std::uint8_t, 16> compute_key_check(const Key& key, const std::uint8_t* bytes)
{
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
    unsigned length = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes, checked_size, mac.data(), &length))
        throw Failure(Outcome::local, "OpenSSL HMAC-SHA256 failed");
    std::array<std::uint8_t, 16> check{};
    std::copy_n(mac.begin(), check.size(), check.begin());
    return check;
}

} // namespace

bool has_content_magic(std::span<const std::uint8_t> data)
{
    return data.size() >= magic.size() && std::equal(magic.begin(), magic.end(), data.begin());
}

HeaderBytes encode_header(const ContentHeader& header)
{
    HeaderBytes out{};
    std::copy(magic.begin(), magic.end(), out.begin());
    out[7] = header.version;
    std::copy(header.kid.begin(), header.kid.end(), out.begin() + 8);
    std::copy(header.iv.begin(), header.iv.end(), out.begin() + 24);
    for (int i = 0; i < 8; ++i)
        out[40 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(header.plaintext_size >> (56 - 8 * i));
    std::copy(header.key_check.begin(), header.key_check.end(), out.begin() + 48);
    return out;
}

ContentHeader make_header(const Kid& kid, const Key& key, const Iv& iv, std::uint64_t plaintext_size)
{
    ContentHeader header;
    header.kid = kid;
    header.iv = iv;
    header.plaintext_size = plaintext_size;
    const HeaderBytes bytes = encode_header(header);
    header.key_check = compute_key_check(key, bytes.data());
    return header;
}

std::optional<ContentHeader> decode_header(std::span<const std::uint8_t> data)
{
    if (data.size() < header_size || !has_content_magic(data))
        return std::nullopt;
    ContentHeader header;
    header.version = data[7];
    if (header.version != format_version)
        throw Failure(Outcome::usage, fmt::format("unsupported content format version {} (this build reads version {})",
                                                  header.version, format_version));
    std::copy_n(data.begin() + 8, kid_size, header.kid.begin());
    std::copy_n(data.begin() + 24, iv_size, header.iv.begin());
    for (std::size_t i = 0; i < 8; ++i)
        header.plaintext_size = (header.plaintext_size << 8) | data[40 + i];
    std::copy_n(data.begin() + 48, header.key_check.size(), header.key_check.begin());
    return header;
}

bool key_matches(const ContentHeader& header, const Key& key)
{
    const HeaderBytes bytes = encode_header(header);
    const auto check = compute_key_check(key, bytes.data());
    return CRYPTO_memcmp(check.data(), header.key_check.data(), check.size()) == 0;
}

} // namespace imsp2p::swarm
