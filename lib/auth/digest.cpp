#include "auth/digest.hpp"
#include "auth/digest_parts.hpp"

#include "cli/outcome.hpp"
#include "util/hex.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace imsp2p::auth {
namespace {

bool iequals(std::string_view a, std::string_view b)
{
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

} // namespace

std::optional<DigestAlgorithm> parse_digest_algorithm(std::string_view name)
{
    if (name.empty() || iequals(name, "MD5"))
        return DigestAlgorithm{DigestHash::md5, false};
    if (iequals(name, "MD5-sess"))
        return DigestAlgorithm{DigestHash::md5, true};
    if (iequals(name, "SHA-256"))
        return DigestAlgorithm{DigestHash::sha256, false};
    if (iequals(name, "SHA-256-sess"))
        return DigestAlgorithm{DigestHash::sha256, true};
    if (iequals(name, "AKAv1-MD5"))
        return DigestAlgorithm{DigestHash::md5, false, 1};
    if (iequals(name, "AKAv2-MD5"))
        return DigestAlgorithm{DigestHash::md5, false, 2};
    return std::nullopt;
}

std::string digest_algorithm_name(DigestAlgorithm algorithm)
{
    if (algorithm.aka)
        return algorithm.aka == 1 ? "AKAv1-MD5" : "AKAv2-MD5";
    std::string name = algorithm.hash == DigestHash::md5 ? "MD5" : "SHA-256";
    return algorithm.session ? name + "-sess" : name;
}

std::string digest_hex(DigestHash hash, std::string_view data)
{
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int size = 0;
    // Fetched once: with OpenSSL 3, EVP_md5() has every EVP_Digest look the
    // implementation up again in the provider store, under its locks.
    static EVP_MD* const md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
    static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    const EVP_MD* fetched = hash == DigestHash::md5 ? md5 : sha256;
    const EVP_MD* type = fetched ? fetched : hash == DigestHash::md5 ? EVP_md5() : EVP_sha256();
    if (EVP_Digest(data.data(), data.size(), md.data(), &size, type, nullptr) != 1)
        throw Failure(Outcome::local, "OpenSSL digest computation failed");
    return to_hex(md.data(), size);
}

std::string digest_ha1(const Challenge& challenge, const DigestAnswer& answer)
{
    const DigestHash hash = challenge.parsed_algorithm.hash;
    std::string ha1 = digest_hex(hash, answer.username + ":" + challenge.realm + ":" + answer.password);
    if (challenge.parsed_algorithm.session)
        ha1 = digest_hex(hash, ha1 + ":" + challenge.nonce + ":" + answer.cnonce);
    return ha1;
}

std::string digest_response_from_ha1(const Challenge& challenge, const DigestAnswer& answer, std::string_view ha1)
{
    const DigestHash hash = challenge.parsed_algorithm.hash;
    const std::string ha2 = digest_hex(hash, answer.method + ":" + answer.uri);
    if (!challenge.qop_auth)
        return digest_hex(hash, fmt::format("{}:{}:{}", ha1, challenge.nonce, ha2));
    return digest_hex(hash, fmt::format("{}:{}:{:08x}:{}:auth:{}", ha1, challenge.nonce, answer.nonce_count,
                                        answer.cnonce, ha2));
}

std::string digest_response(const Challenge& challenge, const DigestAnswer& answer)
{
    return digest_response_from_ha1(challenge, answer, digest_ha1(challenge, answer));
}

std::string digest_credentials(const Challenge& challenge, const DigestAnswer& answer)
{
    std::string out = fmt::format("Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\"",
                                  answer.username, challenge.realm, challenge.nonce, answer.uri,
                                  digest_response(challenge, answer));
    // Echo the algorithm as the server wrote it (RFC 7616 §3.4), MD5 when it wrote none.
    out += fmt::format(", algorithm={}",
                       challenge.algorithm.empty() ? digest_algorithm_name(challenge.parsed_algorithm) : challenge.algorithm);
    if (!challenge.opaque.empty())
        out += fmt::format(", opaque=\"{}\"", challenge.opaque);
    if (challenge.qop_auth)
        out += fmt::format(", qop=auth, nc={:08x}, cnonce=\"{}\"", answer.nonce_count, answer.cnonce);
    if (!answer.auts.empty())
        out += fmt::format(", auts=\"{}\"", answer.auts);
    return out;
}

std::string make_cnonce()
{
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw Failure(Outcome::local, "OpenSSL random generator failed");
    return to_hex(bytes.data(), bytes.size());
}

} // namespace imsp2p::auth
