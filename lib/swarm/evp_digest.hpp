// A reusable OpenSSL EVP digest (SHA-1, SHA-256): the algorithm is fetched
// once, not per block, since the v2 merkle leaves are 16 KiB each.
#pragma once

#include <cstddef>

typedef struct evp_md_st EVP_MD;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace imsp2p::swarm {

class EvpDigest {
public:
    // `name` as OpenSSL knows it ("SHA1", "SHA256"); Failure(local) when unavailable.
    explicit EvpDigest(const char* name);
    ~EvpDigest();
    EvpDigest(const EvpDigest&) = delete;
    EvpDigest& operator=(const EvpDigest&) = delete;

    void start();
    void update(const void* data, std::size_t size);
    void finish(char* out); // the digest's size in bytes

    template <typename Hash>
    Hash of(const void* data, std::size_t size)
    {
        Hash hash;
        start();
        update(data, size);
        finish(hash.data());
        return hash;
    }

private:
    EVP_MD* md_;
    EVP_MD_CTX* ctx_;
};

} // namespace imsp2p::swarm
