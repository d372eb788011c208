#include "aka/milenage.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

namespace imsp2p::aka {

// One AES-128-ECB context with the key set once: Milenage runs the block
// cipher six times per vector, in load tests thousands of times a second.
struct Milenage::Cipher {
    EVP_CIPHER_CTX* ctx = nullptr;
    ~Cipher() { EVP_CIPHER_CTX_free(ctx); }
};

namespace {

Block xor_blocks(const Block& a, const Block& b)
{
    Block out;
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = a[i] ^ b[i];
    return out;
}

// Cyclic rotation of a 128-bit block towards the most significant bit by
// `bits` (TS 35.206 rot), a multiple of 8 here (r1..r5 are 64, 0, 32, 64, 96).
Block rotate(const Block& in, unsigned bits)
{
    Block out;
    const unsigned shift = bits / 8;
    for (size_t i = 0; i < in.size(); ++i)
        out[i] = in[(i + shift) % in.size()];
    return out;
}

template <size_t N>
std::array<std::uint8_t, N> slice(const Block& block, size_t offset)
{
    std::array<std::uint8_t, N> out;
    std::copy_n(block.begin() + static_cast<long>(offset), N, out.begin());
    return out;
}

template <size_t N>
std::array<std::uint8_t, N> fixed(const Bytes& bytes, const char* what)
{
    if (bytes.size() != N)
        throw Failure(Outcome::usage, fmt::format("{} must be {} bytes ({} hex digits), not {}", what, N, 2 * N, bytes.size()));
    std::array<std::uint8_t, N> out;
    std::copy(bytes.begin(), bytes.end(), out.begin());
    return out;
}

} // namespace

Block to_block(const Bytes& bytes, const char* what) { return fixed<16>(bytes, what); }
Sqn to_sqn(const Bytes& bytes, const char* what) { return fixed<6>(bytes, what); }
Amf to_amf(const Bytes& bytes, const char* what) { return fixed<2>(bytes, what); }

Milenage::Milenage(const Block& k, const Block& opc) : cipher_(std::make_unique<Cipher>()), opc_(opc)
{
    cipher_->ctx = EVP_CIPHER_CTX_new();
    if (!cipher_->ctx || EVP_EncryptInit_ex(cipher_->ctx, EVP_aes_128_ecb(), nullptr, k.data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(cipher_->ctx, 0) != 1)
        throw Failure(Outcome::local, "OpenSSL cannot set up AES-128 for Milenage");
}

Milenage::~Milenage() = default;
Milenage::Milenage(Milenage&&) noexcept = default;
Milenage& Milenage::operator=(Milenage&&) noexcept = default;

Block Milenage::encrypt(const Block& input) const
{
    Block output{};
    int length = 0;
    if (EVP_EncryptUpdate(cipher_->ctx, output.data(), &length, input.data(), static_cast<int>(input.size())) != 1 ||
        length != 16)
        throw Failure(Outcome::local, "OpenSSL AES-128 encryption failed");
    return output;
}

Block Milenage::opc_from_op(const Block& k, const Block& op)
{
    // E_K needs only K; OPc is not known yet, so any value will do here.
    const Milenage cipher(k, Block{});
    return xor_blocks(op, cipher.encrypt(op));
}

Block Milenage::temp(const Block& rand) const
{
    return encrypt(xor_blocks(rand, opc_));
}

// OUTn = E_K(rot(TEMP ⊕ OPc, rn) ⊕ cn) ⊕ OPc, with cn a block whose last
// byte is `constant` (c2..c5 are 1, 2, 4, 8).
Block Milenage::out(const Block& temp, unsigned rotate_bits, std::uint8_t constant) const
{
    Block input = rotate(xor_blocks(temp, opc_), rotate_bits);
    input[15] ^= constant;
    return xor_blocks(encrypt(input), opc_);
}

void Milenage::f1(const Block& rand, const Sqn& sqn, const Amf& amf, Mac& mac_a, Mac& mac_s) const
{
    Block in1;
    std::copy(sqn.begin(), sqn.end(), in1.begin());
    std::copy(amf.begin(), amf.end(), in1.begin() + 6);
    std::copy(sqn.begin(), sqn.end(), in1.begin() + 8);
    std::copy(amf.begin(), amf.end(), in1.begin() + 14);
    // OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc, r1 = 64, c1 = 0.
    const Block out1 = xor_blocks(encrypt(xor_blocks(temp(rand), rotate(xor_blocks(in1, opc_), 64))), opc_);
    mac_a = slice<8>(out1, 0);
    mac_s = slice<8>(out1, 8);
}

void Milenage::f2345(const Block& rand, Mac& res, Block& ck, Block& ik, Ak& ak, Ak& ak_star) const
{
    const Block t = temp(rand);
    const Block out2 = out(t, 0, 1);
    ak = slice<6>(out2, 0);
    res = slice<8>(out2, 8);
    ck = out(t, 32, 2);
    ik = out(t, 64, 4);
    ak_star = slice<6>(out(t, 96, 8), 0);
}

MilenageOutput Milenage::compute(const Block& rand, const Sqn& sqn, const Amf& amf) const
{
    MilenageOutput result;
    f1(rand, sqn, amf, result.mac_a, result.mac_s);
    f2345(rand, result.res, result.ck, result.ik, result.ak, result.ak_star);
    return result;
}

} // namespace imsp2p::aka
