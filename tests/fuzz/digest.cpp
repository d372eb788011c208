// Digest and AKA headers as the servers and clients read them: the
// Authorization parameters of an HTTP request (license-server), a
// WWW-Authenticate challenge (license-fetch, overlay-probe), the algorithm
// names, and the AKA nonce a challenge carries (RAND ‖ AUTN in base64).
#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "auth/digest_header.hpp"
#include "fuzz_support.hpp"

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto input = fuzz::text(data, size);
    if (const auto params = auth::parse_digest_params(input)) {
        for (const char* name : {"algorithm", "nonce"})
            if (const auto it = params->find(name); it != params->end()) {
                auth::parse_digest_algorithm(it->second);
                auth::decode_aka_nonce(it->second);
            }
    }
    if (const auto challenge = auth::parse_challenge(input)) {
        auth::decode_aka_nonce(challenge->nonce);
        // The client answers what it parsed (qop, -sess, opaque all reach the hash).
        const auth::DigestAnswer answer{"alice@ims.test", "secret", "POST", "/license", "c0ffee", 1, {}};
        auth::digest_credentials(*challenge, answer);
    }
    auth::decode_aka_nonce(input);
    return 0;
}
