#include "util/hmac.hpp"

#include "cli/outcome.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace imsp2p {

std::string hmac_sha256(std::string_view key, std::string_view data)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
              data.size(), mac, &length))
        throw Failure(Outcome::local, "OpenSSL HMAC-SHA256 failed");
    return std::string(reinterpret_cast<const char*>(mac), length);
}

} // namespace imsp2p
