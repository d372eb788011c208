#include "swarm/evp_digest.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

namespace imsp2p::swarm {
namespace {

[[noreturn]] void fail() { throw Failure(Outcome::local, "OpenSSL digest failed"); }

} // namespace

EvpDigest::EvpDigest(const char* name) : md_(EVP_MD_fetch(nullptr, name, nullptr)), ctx_(EVP_MD_CTX_new())
{
    if (!md_ || !ctx_) {
        EVP_MD_CTX_free(ctx_);
        EVP_MD_free(md_);
        throw Failure(Outcome::local, fmt::format("OpenSSL {} is not available", name));
    }
}

EvpDigest::~EvpDigest()
{
    EVP_MD_CTX_free(ctx_);
    EVP_MD_free(md_);
}

void EvpDigest::start()
{
    if (EVP_DigestInit_ex2(ctx_, md_, nullptr) != 1)
        fail();
}

void EvpDigest::update(const void* data, std::size_t size)
{
    if (EVP_DigestUpdate(ctx_, data, size) != 1)
        fail();
}

void EvpDigest::finish(char* out)
{
    if (EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out), nullptr) != 1)
        fail();
}

} // namespace imsp2p::swarm
