// Base64 (RFC 4648, with padding) on OpenSSL, for AKA nonces and auts.
#pragma once

#include "util/hex.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace imsp2p {

std::string base64_encode(const std::uint8_t* data, std::size_t size);
inline std::string base64_encode(std::string_view bytes)
{
    return base64_encode(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}
// nullopt on a character outside the alphabet or a bad length or padding.
std::optional<Bytes> base64_decode(std::string_view text);

} // namespace imsp2p
