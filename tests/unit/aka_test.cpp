// Both sides of AKA against each other: the cases of TS 33.102 §6.3.
#include "aka/aka.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p;
using namespace imsp2p::aka;

namespace {

const Block k = to_block(*from_hex("465b5ce8b199b49faa5f0a2ee238a6bc"), "k");
const Block op = to_block(*from_hex("cdc202d5123e20f62b6d676ac72cb318"), "op");
const Amf amf{0x80, 0x00};

Milenage milenage() { return Milenage(k, Milenage::opc_from_op(k, op)); }

} // namespace

TEST_CASE("SQN is SEQ and a 5-bit IND")
{
    CHECK(make_sqn(3, 7) == 3 * 32 + 7);
    CHECK(seq_of(make_sqn(1000, 31)) == 1000);
    CHECK(ind_of(make_sqn(1000, 31)) == 31);
    CHECK(sqn_to_int(sqn_from_int(0xff9bb4d0b607)) == 0xff9bb4d0b607);
    CHECK(next_sqn(9, 2) == make_sqn(10, 2));
}

TEST_CASE("a fresh vector is accepted and both sides agree on RES, CK and IK")
{
    const Milenage network = milenage();
    Usim usim(milenage());
    const Vector vector = generate_vector(network, amf, make_sqn(1, 3));
    const auto answer = usim.authenticate(vector.rand, vector.autn);
    REQUIRE(answer.status == Usim::Status::ok);
    CHECK(answer.res == vector.xres);
    CHECK(answer.ck == vector.ck);
    CHECK(answer.ik == vector.ik);
    CHECK(answer.sqn == make_sqn(1, 3));
    CHECK(usim.seq_ms()[3] == 1);
}

TEST_CASE("a replayed SQN is rejected, and the resynchronisation lets the network go on")
{
    const Milenage network = milenage();
    Usim usim(milenage());
    const Vector first = generate_vector(network, amf, make_sqn(5, 0));
    REQUIRE(usim.authenticate(first.rand, first.autn).status == Usim::Status::ok);

    // The same SQN again (a replay, here with a new RAND): not fresh.
    const Vector replay = generate_vector(network, amf, make_sqn(5, 0));
    const auto answer = usim.authenticate(replay.rand, replay.autn);
    REQUIRE(answer.status == Usim::Status::sync_failure);
    CHECK(answer.res == Mac{});

    const auto sqn_ms = verify_auts(network, replay.rand, answer.auts);
    REQUIRE(sqn_ms);
    CHECK(*sqn_ms == make_sqn(5, 0));
    const Vector resynced = generate_vector(network, amf, next_sqn(seq_of(*sqn_ms), 0));
    CHECK(usim.authenticate(resynced.rand, resynced.autn).status == Usim::Status::ok);
}

TEST_CASE("a network that is behind the UE resynchronises to the UE's SQN")
{
    const Milenage network = milenage();
    Usim usim(milenage());
    std::array<std::uint64_t, ind_count> seq_ms{};
    seq_ms[1] = 1000; // the UE has seen SEQ 1000 from the node owning IND 1
    seq_ms[4] = 400;
    usim.set_seq_ms(seq_ms);

    // That node lost its counter and restarts from SEQ 10.
    const Vector behind = generate_vector(network, amf, make_sqn(10, 1));
    const auto answer = usim.authenticate(behind.rand, behind.autn);
    REQUIRE(answer.status == Usim::Status::sync_failure);
    const auto sqn_ms = verify_auts(network, behind.rand, answer.auts);
    REQUIRE(sqn_ms);
    CHECK(*sqn_ms == make_sqn(1000, 1)); // the highest SEQ accepted, with its IND

    const Vector next = generate_vector(network, amf, next_sqn(seq_of(*sqn_ms), 1));
    CHECK(usim.authenticate(next.rand, next.autn).status == Usim::Status::ok);
    CHECK(usim.seq_ms()[1] == 1001);
}

TEST_CASE("each IND has its own SEQ: nodes do not share a counter")
{
    const Milenage network = milenage();
    Usim fresh(milenage());
    const Vector a = generate_vector(network, amf, make_sqn(50, 1));
    const Vector b = generate_vector(network, amf, make_sqn(20, 2));
    CHECK(fresh.authenticate(a.rand, a.autn).status == Usim::Status::ok);
    CHECK(fresh.authenticate(b.rand, b.autn).status == Usim::Status::ok); // lower SEQ, other IND: fresh
}

TEST_CASE("a SEQ too far ahead is rejected (Δ)")
{
    const Milenage network = milenage();
    Usim usim(milenage(), 100);
    const Vector far = generate_vector(network, amf, make_sqn(101, 0));
    CHECK(usim.authenticate(far.rand, far.autn).status == Usim::Status::sync_failure);
    const Vector near = generate_vector(network, amf, make_sqn(100, 0));
    CHECK(usim.authenticate(near.rand, near.autn).status == Usim::Status::ok);
}

TEST_CASE("a wrong MAC is rejected: the network is not authentic")
{
    const Milenage network = milenage();
    Usim usim(milenage());
    Vector vector = generate_vector(network, amf, make_sqn(1, 0));
    vector.autn[15] ^= 0x01;
    CHECK(usim.authenticate(vector.rand, vector.autn).status == Usim::Status::mac_failure);
    CHECK(usim.seq_ms()[0] == 0);

    // A network with another OP (wrong subscriber data) fails the same way.
    const Block other_op = to_block(*from_hex("00000000000000000000000000000001"), "op");
    const Milenage impostor(k, Milenage::opc_from_op(k, other_op));
    const Vector forged = generate_vector(impostor, amf, make_sqn(2, 0));
    CHECK(usim.authenticate(forged.rand, forged.autn).status == Usim::Status::mac_failure);
}

TEST_CASE("a forged AUTS is rejected by the network")
{
    const Milenage network = milenage();
    Usim usim(milenage());
    const Vector first = generate_vector(network, amf, make_sqn(5, 0));
    REQUIRE(usim.authenticate(first.rand, first.autn).status == Usim::Status::ok);
    auto answer = usim.authenticate(first.rand, first.autn);
    REQUIRE(answer.status == Usim::Status::sync_failure);
    answer.auts[13] ^= 0x80;
    CHECK_FALSE(verify_auts(network, first.rand, answer.auts));
}
