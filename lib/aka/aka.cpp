#include "aka/aka.hpp"

#include "cli/outcome.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>

namespace imsp2p::aka {
namespace {

template <size_t N>
bool equal_secret(const std::array<std::uint8_t, N>& a, const std::uint8_t* b)
{
    return CRYPTO_memcmp(a.data(), b, N) == 0;
}

} // namespace

std::uint64_t sqn_to_int(const Sqn& sqn)
{
    std::uint64_t value = 0;
    for (auto byte : sqn)
        value = value << 8 | byte;
    return value;
}

Sqn sqn_from_int(std::uint64_t value)
{
    Sqn sqn;
    for (int i = 5; i >= 0; --i, value >>= 8)
        sqn[static_cast<size_t>(i)] = static_cast<std::uint8_t>(value & 0xff);
    return sqn;
}

Vector generate_vector(const Milenage& milenage, const Amf& amf, std::uint64_t sqn, const std::optional<Block>& rand)
{
    Vector vector;
    vector.sqn = sqn & sqn_max;
    if (rand)
        vector.rand = *rand;
    else if (RAND_bytes(vector.rand.data(), static_cast<int>(vector.rand.size())) != 1)
        throw Failure(Outcome::local, "OpenSSL random generator failed");
    const Sqn sqn_bytes = sqn_from_int(vector.sqn);
    const MilenageOutput out = milenage.compute(vector.rand, sqn_bytes, amf);
    for (size_t i = 0; i < 6; ++i)
        vector.autn[i] = sqn_bytes[i] ^ out.ak[i];
    std::copy(amf.begin(), amf.end(), vector.autn.begin() + 6);
    std::copy(out.mac_a.begin(), out.mac_a.end(), vector.autn.begin() + 8);
    vector.xres = out.res;
    vector.ck = out.ck;
    vector.ik = out.ik;
    return vector;
}

std::optional<std::uint64_t> verify_auts(const Milenage& milenage, const Block& rand, const Auts& auts)
{
    Mac res;
    Block ck, ik;
    Ak ak, ak_star;
    milenage.f2345(rand, res, ck, ik, ak, ak_star);
    Sqn sqn_ms;
    for (size_t i = 0; i < 6; ++i)
        sqn_ms[i] = auts[i] ^ ak_star[i];
    // TS 33.102 §6.3.5: MAC-S is computed with a dummy AMF of all zeros.
    Mac mac_a, mac_s;
    milenage.f1(rand, sqn_ms, Amf{0, 0}, mac_a, mac_s);
    if (!equal_secret(mac_s, auts.data() + 6))
        return std::nullopt;
    return sqn_to_int(sqn_ms);
}

Usim::Usim(Milenage milenage, std::uint64_t delta) : milenage_(std::move(milenage)), delta_(delta) {}

std::uint64_t Usim::highest_sqn() const
{
    const auto highest = std::max_element(seq_ms_.begin(), seq_ms_.end());
    return make_sqn(*highest, static_cast<unsigned>(highest - seq_ms_.begin()));
}

Usim::Answer Usim::authenticate(const Block& rand, const Block& autn)
{
    Answer answer;
    Ak ak, ak_star;
    milenage_.f2345(rand, answer.res, answer.ck, answer.ik, ak, ak_star);
    Sqn sqn;
    for (size_t i = 0; i < 6; ++i)
        sqn[i] = autn[i] ^ ak[i];
    const Amf amf{autn[6], autn[7]};
    Mac xmac, mac_s;
    milenage_.f1(rand, sqn, amf, xmac, mac_s);
    if (!equal_secret(xmac, autn.data() + 8)) {
        answer.status = Status::mac_failure;
        return answer;
    }
    answer.sqn = sqn_to_int(sqn);

    const std::uint64_t seq = seq_of(answer.sqn);
    const unsigned ind = ind_of(answer.sqn);
    const std::uint64_t highest_seq = *std::max_element(seq_ms_.begin(), seq_ms_.end());
    // Annex C.2.2: fresh when above this index's last SEQ, and at most Δ
    // ahead of the highest SEQ accepted so far.
    const bool fresh = seq > seq_ms_[ind];
    const bool in_range = seq <= highest_seq || seq - highest_seq <= delta_;
    if (fresh && in_range) {
        seq_ms_[ind] = seq;
        answer.status = Status::ok;
        return answer;
    }

    // Sync failure: AUTS = (SQN_MS ⊕ AK*) ‖ MAC-S, SQN_MS the highest accepted.
    answer.status = Status::sync_failure;
    answer.res = {};
    answer.ck = {};
    answer.ik = {};
    const Sqn sqn_ms = sqn_from_int(highest_sqn());
    Mac mac_a;
    milenage_.f1(rand, sqn_ms, Amf{0, 0}, mac_a, mac_s);
    for (size_t i = 0; i < 6; ++i)
        answer.auts[i] = sqn_ms[i] ^ ak_star[i];
    std::copy(mac_s.begin(), mac_s.end(), answer.auts.begin() + 6);
    return answer;
}

} // namespace imsp2p::aka
