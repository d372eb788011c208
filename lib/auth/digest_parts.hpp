// The request-digest of digest.hpp in its two steps, for a server that
// checks many requests on one nonce (HTTP qop=auth with rising nc): HA1
// depends only on the user, realm, password and algorithm (for a -sess
// algorithm also on nonce and cnonce), so it is computed once and kept; the
// response to each request then costs two hashes instead of three.
#pragma once

#include "auth/digest.hpp"

#include <string>
#include <string_view>

namespace imsp2p::auth {

// HA1 of RFC 7616 §3.4.2 (lower-case hex).
std::string digest_ha1(const Challenge& challenge, const DigestAnswer& answer);

// The request-digest given HA1: digest_response(c, a) == digest_response_from_ha1(c, a, digest_ha1(c, a)).
std::string digest_response_from_ha1(const Challenge& challenge, const DigestAnswer& answer, std::string_view ha1);

} // namespace imsp2p::auth
