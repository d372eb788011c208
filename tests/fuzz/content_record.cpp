// Content records as swarm-fetch, license-fetch and overlay-probe read them
// from the overlay (lib/dht content_record): each input once as a whole
// value from the DHT, once as the JSON payload of a record signed by a
// publisher the overlay CA certified, so the fuzzer reaches the JSON past
// the Ed25519 signature.
#include "dht/content_record.hpp"
#include "fuzz_support.hpp"

#include <openssl/evp.h>

#include <chrono>
#include <memory>

using namespace imsp2p;
using namespace std::chrono_literals;

namespace {

struct Pki {
    dht::OverlayCa ca = dht::OverlayCa::create("fuzz CA", 24h);
    dht::Credential publisher = ca.issue("studio", 24h);
    dht::ContentVerifier verifier{ca.credential().cert_ptr()};
};

// The envelope around `payload`, signed as ContentSigner signs (over every byte before the signature).
Bytes signed_envelope(const Pki& pki, Bytes payload, std::time_t now)
{
    const dht::ContentEnvelope envelope{dht::content_key("film"), std::move(payload), 1, now + 600,
                                        pki.publisher.cert_der(), {}};
    Bytes out = dht::encode_content_envelope(envelope);
    const std::size_t signed_size = out.size();
    std::size_t size = 64;
    out.resize(signed_size + size);
    const std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pki.publisher.key());
    EVP_DigestSign(ctx.get(), out.data() + signed_size, &size, out.data(), signed_size);
    return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const Pki pki;
    const auto now = std::time(nullptr);
    pki.verifier.check({data, size}, "film", now);
    dht::decode_content_envelope({data, size});
    if (size <= dht::max_content_payload)
        pki.verifier.check(signed_envelope(pki, Bytes(data, data + size), now), "film", now);
    return 0;
}
