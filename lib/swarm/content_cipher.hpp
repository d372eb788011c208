// AES-128-CTR over a whole content file (DESIGN.md §4), streamed through
// OpenSSL EVP, with the header of content_header.hpp in front.
#pragma once

#include "swarm/content_header.hpp"

#include <filesystem>
#include <memory>

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;

namespace imsp2p::swarm {

// One AES-128-CTR key stream; apply() encrypts or decrypts (the same in CTR).
class CtrCipher {
public:
    CtrCipher(const Key& key, const Iv& iv);
    ~CtrCipher();
    CtrCipher(const CtrCipher&) = delete;
    CtrCipher& operator=(const CtrCipher&) = delete;

    void apply(const std::uint8_t* in, std::uint8_t* out, std::size_t size);
    // Moves the key stream to byte `offset` of the content, so that threads can
    // encrypt parts of one file each.
    void seek(std::uint64_t offset);

private:
    EVP_CIPHER_CTX* ctx_;
    Iv iv_;
};

Kid random_kid();
Key random_key();

// Encrypts `in` into `out` (created, or replaced) with a fresh IV; returns the header
// written. Failure(usage) when `in` cannot be read, Failure(local) when `out` cannot be written.
ContentHeader encrypt_file(const std::filesystem::path& in, const std::filesystem::path& out, const Kid& kid,
                           const Key& key);

// The header of an encrypted file. Failure(usage) when the file cannot be read or
// does not start with the content magic ("FILE: not an encrypted imsp2p content file").
ContentHeader read_content_header(const std::filesystem::path& file);

// Decrypts `in` into `out`, through a temporary file beside it renamed at the end, so
// `out` is either complete or untouched. Failure(auth) when `key` does not fit the header,
// Failure(negative) when the ciphertext is truncated or has trailing bytes, Failure(local)
// when writing fails (disk full: the partial output is removed).
void decrypt_file(const std::filesystem::path& in, const std::filesystem::path& out, const Key& key);

} // namespace imsp2p::swarm
