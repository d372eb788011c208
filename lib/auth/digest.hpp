// HTTP/SIP Digest authentication, client side (RFC 7616, RFC 3261 §22.4):
// MD5 and SHA-256, with and without -sess, qop=auth or no qop.
// sofia-sip's own Digest code knows only MD5, so responses are computed here.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace imsp2p::auth {

enum class DigestHash { md5, sha256 };

struct DigestAlgorithm {
    DigestHash hash = DigestHash::md5;
    bool session = false; // the -sess variant
    int aka = 0;          // 1: AKAv1-MD5 (RFC 3310), 2: AKAv2-MD5 (RFC 4169); 0: a password
};

// "MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "AKAv1-MD5", "AKAv2-MD5"
// (case-insensitive); a missing
// algorithm means MD5. Returns nullopt for algorithms we cannot compute.
std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name);
std::string digest_algorithm_name(DigestAlgorithm algorithm);

// One Digest challenge (WWW-Authenticate or Proxy-Authenticate).
struct Challenge {
    std::string realm;
    std::string nonce;
    std::string opaque;      // empty: none
    std::string algorithm;   // as the server wrote it; empty when it wrote none
    DigestAlgorithm parsed_algorithm;
    bool stale = false;
    bool qop_auth = false;   // the server offered qop=auth
    bool proxy = false;      // from Proxy-Authenticate: answer in Proxy-Authorization
};

// What a client answers one challenge with.
struct DigestAnswer {
    std::string username;
    std::string password; // raw bytes (AKA uses RES, which may contain NUL bytes)
    std::string method;
    std::string uri;
    std::string cnonce;   // used when qop=auth
    unsigned nonce_count = 1;
    std::string auts;     // AKA resynchronisation: base64 of AUTS, sent as auts="…"
};

// Lower-case hex of the hash of `data`.
std::string digest_hex(DigestHash hash, std::string_view data);

// The request-digest ("response" parameter) for `answer` to `challenge`.
std::string digest_response(const Challenge& challenge, const DigestAnswer& answer);

// The full credentials value: `Digest username="…", realm="…", …`.
std::string digest_credentials(const Challenge& challenge, const DigestAnswer& answer);

// A random client nonce (hex, 16 bytes of entropy).
std::string make_cnonce();

} // namespace imsp2p::auth
