// Milenage (3GPP TS 35.206): the authentication functions f1, f1*, f2, f3,
// f4, f5, f5* and the derivation of OPc, on AES-128 from OpenSSL.
#pragma once

#include "util/hex.hpp"

#include <array>
#include <cstdint>
#include <memory>

namespace imsp2p::aka {

using Block = std::array<std::uint8_t, 16>;
using Sqn = std::array<std::uint8_t, 6>;
using Amf = std::array<std::uint8_t, 2>;
using Mac = std::array<std::uint8_t, 8>;
using Ak = std::array<std::uint8_t, 6>;

struct MilenageOutput {
    Mac mac_a;   // f1
    Mac mac_s;   // f1*
    Mac res;     // f2 (RES, 64 bits)
    Block ck;    // f3
    Block ik;    // f4
    Ak ak;       // f5
    Ak ak_star;  // f5*
};

class Milenage {
public:
    // K with OPc. Throws Failure(local) if OpenSSL cannot set up AES.
    Milenage(const Block& k, const Block& opc);
    ~Milenage();
    Milenage(Milenage&&) noexcept;
    Milenage& operator=(Milenage&&) noexcept;

    // OPc = OP ⊕ E_K(OP).
    static Block opc_from_op(const Block& k, const Block& op);

    // f1 and f1* for RAND, SQN and AMF.
    void f1(const Block& rand, const Sqn& sqn, const Amf& amf, Mac& mac_a, Mac& mac_s) const;
    // f2, f3, f4, f5, f5* for RAND (they do not depend on SQN or AMF).
    void f2345(const Block& rand, Mac& res, Block& ck, Block& ik, Ak& ak, Ak& ak_star) const;
    // Everything at once.
    MilenageOutput compute(const Block& rand, const Sqn& sqn, const Amf& amf) const;

private:
    Block encrypt(const Block& input) const;
    Block temp(const Block& rand) const; // E_K(RAND ⊕ OPc)
    Block out(const Block& temp, unsigned rotate_bits, std::uint8_t constant) const;

    struct Cipher;
    std::unique_ptr<Cipher> cipher_;
    Block opc_;
};

// Fixed-size byte arrays from Bytes (Failure(usage) naming `what` on a wrong size).
Block to_block(const Bytes& bytes, const char* what);
Sqn to_sqn(const Bytes& bytes, const char* what);
Amf to_amf(const Bytes& bytes, const char* what);

} // namespace imsp2p::aka
