// HMAC-SHA256 (RFC 2104) on OpenSSL, for the MACs a node puts in what it
// hands out (nonces, GRUUs) to recognise them later.
#pragma once

#include <string>
#include <string_view>

namespace imsp2p {

// The 32-byte MAC of `data` under `key`, raw bytes.
std::string hmac_sha256(std::string_view key, std::string_view data);

} // namespace imsp2p
