// The header in front of every encrypted content file (docs/content-format.md):
// magic, version, KID, IV, plaintext length and a key check, 64 bytes, so any
// holder of the file knows which licence to ask for and whether a key fits.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace imsp2p::swarm {

constexpr std::size_t kid_size = 16;
constexpr std::size_t key_size = 16;
constexpr std::size_t iv_size = 16;
constexpr std::size_t header_size = 64;
constexpr std::uint8_t format_version = 1;

using Kid = std::array<std::uint8_t, kid_size>;
using Key = std::array<std::uint8_t, key_size>;
using Iv = std::array<std::uint8_t, iv_size>;
using HeaderBytes = std::array<std::uint8_t, header_size>;

struct ContentHeader {
    std::uint8_t version = format_version;
    Kid kid{};
    Iv iv{};
    std::uint64_t plaintext_size = 0;
    std::array<std::uint8_t, 16> key_check{}; // HMAC-SHA256(key, bytes 0..47), first 16 bytes
};

// True when `data` starts with the format's magic ("IMSPENC").
bool has_content_magic(std::span<const std::uint8_t> data);

// A header for `kid`, `iv` and `plaintext_size` whose key check is computed with `key`.
ContentHeader make_header(const Kid& kid, const Key& key, const Iv& iv, std::uint64_t plaintext_size);

HeaderBytes encode_header(const ContentHeader& header);

// nullopt when the magic is absent or `data` is shorter than a header;
// Failure(usage) "unsupported content format version N" for a future version.
std::optional<ContentHeader> decode_header(std::span<const std::uint8_t> data);

// Whether `key` is the key the header was made with (constant time).
bool key_matches(const ContentHeader& header, const Key& key);

} // namespace imsp2p::swarm
