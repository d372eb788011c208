#include "util/random.hpp"

#include "cli/outcome.hpp"

#include <openssl/rand.h>

#include <random>

namespace imsp2p {

std::string random_bytes(std::size_t size)
{
    std::string bytes(size, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(size)) != 1)
        throw Failure(Outcome::local, "OpenSSL random generator failed");
    return bytes;
}

std::size_t random_below(std::size_t bound)
{
    thread_local std::mt19937_64 generator{std::random_device{}()};
    return std::uniform_int_distribution<std::size_t>(0, bound - 1)(generator);
}

} // namespace imsp2p
