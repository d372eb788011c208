// Both sides of UMTS/IMS AKA (3GPP TS 33.102 §6.3) on Milenage.
// SQN = SEQ ‖ IND (Annex C): the low 5 bits index an array in the UE, so
// that each core node can own one IND value and its own SEQ counter.
#pragma once

#include "aka/milenage.hpp"

#include <array>
#include <cstdint>
#include <optional>

namespace imsp2p::aka {

constexpr unsigned ind_bits = 5;                    // a = 5: 32 array entries
constexpr unsigned ind_count = 1u << ind_bits;
constexpr std::uint64_t sqn_max = (1ull << 48) - 1;
constexpr std::uint64_t default_delta = 1ull << 28; // Δ: how far ahead a SEQ may jump

using Auts = std::array<std::uint8_t, 14>; // (SQN_MS ⊕ AK*) ‖ MAC-S

std::uint64_t sqn_to_int(const Sqn& sqn);
Sqn sqn_from_int(std::uint64_t value);
inline std::uint64_t seq_of(std::uint64_t sqn) { return sqn >> ind_bits; }
inline unsigned ind_of(std::uint64_t sqn) { return static_cast<unsigned>(sqn & (ind_count - 1)); }
inline std::uint64_t make_sqn(std::uint64_t seq, unsigned ind) { return (seq << ind_bits) | ind; }

// An authentication vector, as the HSS/AuC hands it to an S-CSCF.
struct Vector {
    Block rand;
    Block autn; // (SQN ⊕ AK) ‖ AMF ‖ MAC-A
    Mac xres;
    Block ck;
    Block ik;
    std::uint64_t sqn = 0;
};

// Network side: a vector for SQN with a fresh random RAND (or the given one).
Vector generate_vector(const Milenage& milenage, const Amf& amf, std::uint64_t sqn,
                       const std::optional<Block>& rand = std::nullopt);

// Network side: checks MAC-S of AUTS for RAND and returns the UE's SQN_MS,
// or nullopt when MAC-S does not match (the resync request is not authentic).
std::optional<std::uint64_t> verify_auts(const Milenage& milenage, const Block& rand, const Auts& auts);

// Network side: the SQN a node owning `ind` uses after `last_seq` (its own
// counter, or the UE's SEQ_MS after a resync).
inline std::uint64_t next_sqn(std::uint64_t last_seq, unsigned ind) { return make_sqn(last_seq + 1, ind); }

// The UE side: the USIM's checks and its SEQ_MS array.
class Usim {
public:
    enum class Status {
        ok,           // network authentic, SQN fresh: RES, CK, IK are valid
        mac_failure,  // MAC-A mismatch: the network is not authentic
        sync_failure, // SQN not fresh: send AUTS
    };
    struct Answer {
        Status status = Status::ok;
        Mac res{};
        Block ck{};
        Block ik{};
        Auts auts{};              // sync_failure
        std::uint64_t sqn = 0;    // the network's SQN (ok, sync_failure)
    };

    explicit Usim(Milenage milenage, std::uint64_t delta = default_delta);

    // TS 33.102 §6.3.3 with the Annex C freshness check; accepting a SQN
    // records its SEQ in the array.
    Answer authenticate(const Block& rand, const Block& autn);

    // The array, for persistence between runs: SEQ_MS per IND.
    const std::array<std::uint64_t, ind_count>& seq_ms() const { return seq_ms_; }
    void set_seq_ms(const std::array<std::uint64_t, ind_count>& seq_ms) { seq_ms_ = seq_ms; }
    // The highest accepted SQN (SEQ_MS ‖ IND), sent back in AUTS.
    std::uint64_t highest_sqn() const;

private:
    Milenage milenage_;
    std::uint64_t delta_;
    std::array<std::uint64_t, ind_count> seq_ms_{};
};

} // namespace imsp2p::aka
