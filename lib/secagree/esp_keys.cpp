#include "secagree/esp_keys.hpp"

#include <stdexcept>

namespace imsp2p::secagree {

EspKeys derive_esp_keys(const std::string& alg, const std::string& ealg, const aka::Block& ck, const aka::Block& ik)
{
    EspKeys keys;
    keys.integrity.assign(ik.begin(), ik.end());
    if (alg == "hmac-md5-96") {
        keys.xfrm_auth = "hmac(md5)";
    } else if (alg == "hmac-sha-1-96") {
        keys.integrity.resize(20, 0); // SHA-1 HMAC keys are 160 bits: IK padded with zeros
        keys.xfrm_auth = "hmac(sha1)";
    } else {
        throw std::invalid_argument("unknown sec-agree integrity algorithm '" + alg + "'");
    }
    if (ealg == "aes-cbc") {
        keys.encryption.assign(ck.begin(), ck.end());
        keys.xfrm_enc = "cbc(aes)";
    } else if (ealg == "null") {
        keys.xfrm_enc = "ecb(cipher_null)";
    } else {
        throw std::invalid_argument("unknown sec-agree encryption algorithm '" + ealg + "'");
    }
    return keys;
}

} // namespace imsp2p::secagree
