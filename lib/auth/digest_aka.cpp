#include "auth/digest_aka.hpp"

#include "cli/outcome.hpp"
#include "util/base64.hpp"

#include <openssl/hmac.h>

#include <algorithm>

namespace imsp2p::auth {

std::optional<AkaNonce> decode_aka_nonce(const std::string& nonce)
{
    const auto bytes = base64_decode(nonce);
    if (!bytes || bytes->size() < 32)
        return std::nullopt;
    AkaNonce out;
    std::copy_n(bytes->begin(), 16, out.rand.begin());
    std::copy_n(bytes->begin() + 16, 16, out.autn.begin());
    return out;
}

std::string encode_aka_nonce(const aka::Block& rand, const aka::Block& autn, const std::string& server_data)
{
    std::string bytes(rand.begin(), rand.end());
    bytes.append(autn.begin(), autn.end());
    bytes += server_data;
    return base64_encode(bytes);
}

std::string aka_password(int version, const aka::Mac& res, const aka::Block& ik, const aka::Block& ck)
{
    if (version == 1)
        return std::string(res.begin(), res.end());
    std::string key(res.begin(), res.end());
    key.append(ik.begin(), ik.end());
    key.append(ck.begin(), ck.end());
    static constexpr char label[] = "http-digest-akav2-password";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(label),
              sizeof label - 1, mac, &length))
        throw Failure(Outcome::local, "OpenSSL HMAC-MD5 failed");
    return base64_encode(mac, length);
}

} // namespace imsp2p::auth
