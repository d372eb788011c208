// Random bytes for nonces, keys and tokens, from OpenSSL's CSPRNG.
#pragma once

#include <cstddef>
#include <string>

namespace imsp2p {

// `size` random bytes (Failure(local) if the generator fails).
std::string random_bytes(std::size_t size);

} // namespace imsp2p
