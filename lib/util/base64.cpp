#include "util/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace imsp2p {

std::string base64_encode(const std::uint8_t* data, std::size_t size)
{
    std::string out(4 * ((size + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(size));
    out.resize(static_cast<std::size_t>(std::max(length, 0)));
    return out;
}

std::optional<Bytes> base64_decode(std::string_view text)
{
    if (text.size() % 4 != 0)
        return std::nullopt;
    const auto padding = static_cast<std::size_t>(std::count(text.end() - std::min<std::size_t>(2, text.size()), text.end(), '='));
    if (text.find('=') < text.size() - padding)
        return std::nullopt;
    Bytes out(text.size() / 4 * 3);
    // EVP_DecodeBlock rejects foreign characters but counts padding as data.
    const int length = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
    if (length < 0)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(length) - padding);
    return out;
}

} // namespace imsp2p
