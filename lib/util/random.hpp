// Random bytes for nonces, keys and tokens, from OpenSSL's CSPRNG.
#pragma once

#include <cstddef>
#include <string>

namespace imsp2p {

// `size` random bytes (Failure(local) if the generator fails).
std::string random_bytes(std::size_t size);

// A uniformly drawn number in [0, bound) for load spreading and simulations
// (not for secrets); bound must be positive.
std::size_t random_below(std::size_t bound);

} // namespace imsp2p
