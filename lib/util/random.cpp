#include "util/random.hpp"

#include "cli/outcome.hpp"

#include <openssl/rand.h>

namespace imsp2p {

std::string random_bytes(std::size_t size)
{
    std::string bytes(size, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1)
        throw Failure(Outcome::local, "OpenSSL random generator failed");
    return bytes;
}

} // namespace imsp2p
