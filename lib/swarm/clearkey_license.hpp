// Licences as W3C Clear Key JWK sets (DESIGN.md §4):
//   {"keys":[{"kty":"oct","kid":BASE64URL,"k":BASE64URL}]}
// read from a file given by hand (until the licence server exists) and written
// by swarm-publish for its own key.
#pragma once

#include "swarm/content_header.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsp2p::swarm {

struct LicenseKey {
    Kid kid{};
    Key key{};
};

// base64url without padding (RFC 4648 §5), as JWK uses; decoding accepts padding too.
std::string base64url_encode(const std::uint8_t* data, std::size_t size);
std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text);

// The JWK set text, one line, with a final newline.
std::string license_json(const std::vector<LicenseKey>& keys);

// Parses a JWK set; `source` names it in errors: Failure(usage)
// "SOURCE: not a Clear Key licence: REASON".
std::vector<LicenseKey> parse_license(std::string_view json, const std::string& source);
std::vector<LicenseKey> read_license_file(const std::filesystem::path& file);

std::optional<Key> find_key(const std::vector<LicenseKey>& keys, const Kid& kid);

} // namespace imsp2p::swarm
