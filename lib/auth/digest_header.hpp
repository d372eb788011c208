// HTTP Digest headers as text (RFC 7616, RFC 7235 auth-param lists): the
// parameters of an Authorization header for servers, and WWW-Authenticate
// challenges for clients. SIP tools get these parsed by sofia-sip; the HTTP
// tools (license-server, license-fetch) have only the header text.
#pragma once

#include "auth/digest.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace imsp2p::auth {

// The parameters of `Digest name=value, name="quoted", …`, names lower-cased,
// quotes and escapes removed. nullopt when the scheme is not Digest or the
// list is malformed (unterminated quote, a parameter without '=').
std::optional<std::map<std::string, std::string>> parse_digest_params(std::string_view header);

// A WWW-Authenticate value as a Challenge; nullopt when it is not a Digest
// challenge with realm and nonce, or its algorithm is one we cannot compute.
std::optional<Challenge> parse_challenge(std::string_view header);

} // namespace imsp2p::auth
