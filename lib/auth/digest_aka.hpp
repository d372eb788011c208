// Digest AKA: HTTP/SIP Digest with AKA credentials (RFC 3310 AKAv1-MD5,
// RFC 4169 AKAv2-MD5). The nonce carries RAND ‖ AUTN (‖ server data) in
// base64; the password is derived from RES (and for v2 from IK and CK).
#pragma once

#include "aka/aka.hpp"

#include <optional>
#include <string>

namespace imsp2p::auth {

struct AkaNonce {
    aka::Block rand;
    aka::Block autn;
};

// Decodes an AKA nonce; nullopt when it is not base64 or shorter than 32 bytes.
std::optional<AkaNonce> decode_aka_nonce(const std::string& nonce);
// The nonce a server sends: base64(RAND ‖ AUTN ‖ server_data).
std::string encode_aka_nonce(const aka::Block& rand, const aka::Block& autn, const std::string& server_data = {});

// The Digest password for AKA version 1 (RES, raw bytes, may contain NUL) or
// 2 (base64 of HMAC-MD5 keyed with RES ‖ IK ‖ CK over "http-digest-akav2-password").
std::string aka_password(int version, const aka::Mac& res, const aka::Block& ik, const aka::Block& ck);

} // namespace imsp2p::auth
