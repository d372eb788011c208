// Hex encoding of byte strings (keys, digests, SQNs).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsp2p {

using Bytes = std::vector<std::uint8_t>;

std::string to_hex(const std::uint8_t* data, std::size_t size);
inline std::string to_hex(const Bytes& bytes) { return to_hex(bytes.data(), bytes.size()); }

// Decodes hex (either case); nullopt on an odd length or a non-hex character.
std::optional<Bytes> from_hex(std::string_view hex);

} // namespace imsp2p
