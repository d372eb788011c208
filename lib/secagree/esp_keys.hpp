// ESP keys from the IMS AKA session keys (TS 33.203 Annex I): the SAs of
// sec-agree are keyed with IK and CK of the registration's AKA run.
#pragma once

#include "aka/milenage.hpp"
#include "util/hex.hpp"

#include <string>

namespace imsp2p::secagree {

struct EspKeys {
    Bytes integrity;       // IK_ESP
    Bytes encryption;      // CK_ESP; empty for ealg=null
    std::string xfrm_auth; // the kernel's name of the integrity algorithm, e.g. hmac(sha1)
    std::string xfrm_enc;  // the kernel's name of the cipher, e.g. cbc(aes) or ecb(cipher_null)
};

// Throws std::invalid_argument for an algorithm known_alg/known_ealg refuse.
//   hmac-md5-96:   IK_ESP = IK (128 bits)
//   hmac-sha-1-96: IK_ESP = IK || 32 zero bits (160 bits)
//   aes-cbc:       CK_ESP = CK (128 bits); null: no key
EspKeys derive_esp_keys(const std::string& alg, const std::string& ealg, const aka::Block& ck, const aka::Block& ik);

} // namespace imsp2p::secagree
