#include "sip/instance_id.hpp"

#include "util/hex.hpp"

#include <openssl/evp.h>

#include <array>

namespace imsp2p::sip {

std::string instance_id_for(const std::string& impi)
{
    const std::string name = "imsp2p-ue:" + impi;
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int size = 0;
    EVP_Digest(name.data(), name.size(), md.data(), &size, EVP_sha1(), nullptr);
    md[6] = static_cast<unsigned char>((md[6] & 0x0f) | 0x50); // version 5
    md[8] = static_cast<unsigned char>((md[8] & 0x3f) | 0x80); // RFC 4122 variant
    const std::string hex = to_hex(md.data(), 16);
    return "urn:uuid:" + hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) +
           "-" + hex.substr(20, 12);
}

} // namespace imsp2p::sip
