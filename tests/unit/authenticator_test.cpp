// The registrar's Digest server side: challenges, answers checked with
// auth::digest_response, AKA vectors and resynchronisation, bounded state.
#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "core/authenticator.hpp"
#include "test_support.hpp"
#include "util/base64.hpp"

#include <catch2/catch.hpp>

#include <regex>

using namespace imsp2p;
using namespace imsp2p::core;
using namespace std::chrono_literals;
using Kind = Verdict::Kind;

namespace {

struct Fixture {
    test::TempDir dir;
    hss::SubscriberStore store{dir.path() / "hss.sqlite"};
    Authenticator::SteadyClock::time_point now{};
    AuthConfig config{"ims.test", 3, 1, false, 30s, 100};

    Fixture()
    {
        store.import(test::rows(fmt::format("alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,\n"
                                            "bob@ims.test,sip:bob@ims.test,aka,,{},{},,8000,000000000040\n",
                                            test::test_k, test::test_op)));
    }
    Authenticator make() { return Authenticator(store, config, [this] { return now; }); }
    hss::Record record(const std::string& impi) { return *store.find(impi); }
};

std::string param(const std::string& challenge, const std::string& name)
{
    std::smatch match;
    const std::regex pattern(name + R"(=\"?([^\",]*)\"?)");
    return std::regex_search(challenge, match, pattern) ? match[1].str() : std::string();
}

// What a client answers a challenge with (the nonce count as given).
Credentials answer(const std::string& challenge_text, const std::string& username, const std::string& password,
                   unsigned nc = 1)
{
    auth::Challenge challenge;
    challenge.realm = param(challenge_text, "realm");
    challenge.nonce = param(challenge_text, "nonce");
    challenge.algorithm = param(challenge_text, "algorithm");
    challenge.parsed_algorithm = *auth::parse_digest_algorithm(challenge.algorithm);
    challenge.qop_auth = true;
    const auth::DigestAnswer digest{username, password, "REGISTER", "sip:ims.test", "0a4f113b", nc, {}};
    return Credentials{username, challenge.realm, challenge.nonce, digest.uri, auth::digest_response(challenge, digest),
                       challenge.algorithm, digest.cnonce, fmt::format("{:08x}", nc), "auth", {}};
}

aka::Usim usim()
{
    const auto k = aka::to_block(*from_hex(test::test_k), "k");
    return aka::Usim(aka::Milenage(k, aka::Milenage::opc_from_op(k, aka::to_block(*from_hex(test::test_op), "op"))));
}

} // namespace

TEST_CASE("md5: a challenge, the right answer accepted, nonce reuse with a higher nc only")
{
    Fixture f;
    auto auth = f.make();
    const auto alice = f.record("alice@ims.test");
    const Verdict challenge = auth.challenge(alice);
    REQUIRE(challenge.kind == Kind::challenge);
    REQUIRE(challenge.challenges.size() == 1);
    CHECK(std::regex_match(challenge.challenges[0],
                           std::regex(R"(Digest realm="ims\.test", nonce="[A-Za-z0-9+/=]+", qop="auth", algorithm=MD5)")));

    const Verdict accepted = auth.verify(alice, answer(challenge.challenges[0], "alice@ims.test", "alice-secret"), "REGISTER");
    CHECK(accepted.kind == Kind::accept);
    CHECK(accepted.algorithm == "MD5");
    // A refresh reuses the nonce with nc 2; replaying nc 2 is refused with a new challenge.
    CHECK(auth.verify(alice, answer(challenge.challenges[0], "alice@ims.test", "alice-secret", 2), "REGISTER").kind ==
          Kind::accept);
    const Verdict replay = auth.verify(alice, answer(challenge.challenges[0], "alice@ims.test", "alice-secret", 2), "REGISTER");
    CHECK(replay.kind == Kind::challenge);
    CHECK(replay.reason == "nonce_count_replay");
}

TEST_CASE("md5: a wrong answer is refused, and a later right one succeeds (no lockout)")
{
    Fixture f;
    auto auth = f.make();
    const auto alice = f.record("alice@ims.test");
    for (int attempt = 0; attempt < 5; ++attempt) {
        const auto challenge = auth.challenge(alice).challenges[0];
        const Verdict wrong = auth.verify(alice, answer(challenge, "alice@ims.test", "guess"), "REGISTER");
        CHECK(wrong.kind == Kind::reject);
        CHECK(wrong.reason == "wrong_response");
        // The refused nonce is gone: answering it again gets a fresh challenge.
        CHECK(auth.verify(alice, answer(challenge, "alice@ims.test", "alice-secret"), "REGISTER").kind == Kind::challenge);
    }
    const auto challenge = auth.challenge(alice).challenges[0];
    CHECK(auth.verify(alice, answer(challenge, "alice@ims.test", "alice-secret"), "REGISTER").kind == Kind::accept);
}

TEST_CASE("the username a client computed with is the one checked (sipsak sends the user part)")
{
    Fixture f;
    auto auth = f.make();
    const auto alice = f.record("alice@ims.test");
    const auto challenge = auth.challenge(alice).challenges[0];
    CHECK(auth.verify(alice, answer(challenge, "alice", "alice-secret"), "REGISTER").kind == Kind::accept);
}

TEST_CASE("sha-256: offered before MD5 with one nonce, either answer accepted")
{
    Fixture f;
    f.config.offer_sha256 = true;
    auto auth = f.make();
    const auto alice = f.record("alice@ims.test");
    auto challenge = auth.challenge(alice);
    REQUIRE(challenge.challenges.size() == 2);
    CHECK(param(challenge.challenges[0], "algorithm") == "SHA-256");
    CHECK(param(challenge.challenges[1], "algorithm") == "MD5");
    CHECK(param(challenge.challenges[0], "nonce") == param(challenge.challenges[1], "nonce"));
    const Verdict sha = auth.verify(alice, answer(challenge.challenges[0], "alice@ims.test", "alice-secret"), "REGISTER");
    CHECK(sha.kind == Kind::accept);
    CHECK(sha.algorithm == "SHA-256");
    challenge = auth.challenge(alice);
    CHECK(auth.verify(alice, answer(challenge.challenges[1], "alice@ims.test", "alice-secret"), "REGISTER").algorithm == "MD5");
}

TEST_CASE("initial, unknown, expired and foreign nonces get a fresh challenge; stale only for our own")
{
    Fixture f;
    auto auth = f.make();
    const auto alice = f.record("alice@ims.test");
    Credentials initial{"alice@ims.test", "ims.test", "", "sip:ims.test", "", "", "", "", "", ""};
    const Verdict first = auth.verify(alice, initial, "REGISTER");
    CHECK(first.kind == Kind::challenge);
    CHECK(first.reason == "no_credentials");

    const auto challenge = first.challenges[0];
    f.now += 31s;
    const Verdict expired = auth.verify(alice, answer(challenge, "alice@ims.test", "alice-secret"), "REGISTER");
    CHECK(expired.kind == Kind::challenge);
    CHECK(expired.reason == "stale_nonce");
    CHECK(expired.challenges[0].ends_with(", stale=true"));
    CHECK(auth.pending() == 1); // the expired one is gone, the new one waits

    Credentials foreign = answer(challenge, "alice@ims.test", "alice-secret");
    foreign.nonce = base64_encode(std::string(32, 'x'));
    const Verdict unknown = auth.verify(alice, foreign, "REGISTER");
    CHECK(unknown.reason == "unknown_nonce");
    CHECK_FALSE(unknown.challenges[0].ends_with("stale=true"));

    foreign.nonce = "not base64!";
    CHECK(auth.verify(alice, foreign, "REGISTER").kind == Kind::bad_request);
}

TEST_CASE("a nonce issued to one subscriber does not serve another")
{
    Fixture f;
    f.store.import(test::rows("alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,\n"
                              "carol@ims.test,sip:carol@ims.test,md5,alice-secret,,,,,\n"));
    auto auth = f.make();
    const auto challenge = auth.challenge(f.record("alice@ims.test")).challenges[0];
    const Verdict verdict = auth.verify(f.record("carol@ims.test"), answer(challenge, "carol@ims.test", "alice-secret"), "REGISTER");
    CHECK(verdict.kind == Kind::challenge);
    CHECK(verdict.reason == "unknown_nonce");
}

TEST_CASE("malformed answers are refused, not crashed on")
{
    Fixture f;
    auto auth = f.make();
    const auto alice = f.record("alice@ims.test");
    auto credentials = answer(auth.challenge(alice).challenges[0], "alice@ims.test", "alice-secret");
    credentials.nc = "zz";
    CHECK(auth.verify(alice, credentials, "REGISTER").reason == "malformed_nonce_count");
    credentials = answer(auth.challenge(alice).challenges[0], "alice@ims.test", "alice-secret");
    credentials.qop = "auth-int";
    CHECK(auth.verify(alice, credentials, "REGISTER").kind == Kind::bad_request);
    credentials = answer(auth.challenge(alice).challenges[0], "alice@ims.test", "alice-secret");
    credentials.algorithm = "AKAv1-MD5";
    CHECK(auth.verify(alice, credentials, "REGISTER").reason == "algorithm_not_offered");
    credentials = answer(auth.challenge(alice).challenges[0], "alice@ims.test", "alice-secret");
    credentials.response = "short";
    CHECK(auth.verify(alice, credentials, "REGISTER").reason == "wrong_response");
}

TEST_CASE("aka: the USIM accepts the vector, its RES answers the challenge; v2 too")
{
    for (int version : {1, 2}) {
        Fixture f;
        f.config.aka_version = version;
        auto auth = f.make();
        const auto bob = f.record("bob@ims.test");
        const auto challenge = auth.challenge(bob).challenges[0];
        CHECK(param(challenge, "algorithm") == (version == 1 ? "AKAv1-MD5" : "AKAv2-MD5"));
        CHECK(f.store.find("bob@ims.test")->seq == 3); // SEQ 2 in the CSV, the next one taken

        auto sim = usim();
        const auto nonce = auth::decode_aka_nonce(param(challenge, "nonce"));
        REQUIRE(nonce);
        const auto result = sim.authenticate(nonce->rand, nonce->autn);
        REQUIRE(result.status == aka::Usim::Status::ok);
        CHECK(result.sqn == aka::make_sqn(3, 3)); // this node's IND
        const auto password = auth::aka_password(version, result.res, result.ik, result.ck);
        const Verdict verdict = auth.verify(bob, answer(challenge, "bob@ims.test", password), "REGISTER");
        CHECK(verdict.kind == Kind::accept);
        CHECK(verdict.algorithm == (version == 1 ? "AKAv1-MD5" : "AKAv2-MD5"));
    }
}

TEST_CASE("aka: a valid AUTS moves SEQ to the UE's and brings a fresh vector the USIM accepts")
{
    Fixture f;
    auto auth = f.make();
    auto sim = usim();
    // The USIM has seen SEQ 500 (from another node's IND 0): the network's SEQ 3 is not fresh.
    std::array<std::uint64_t, aka::ind_count> seq_ms{};
    seq_ms[0] = 500;
    seq_ms[3] = 500;
    sim.set_seq_ms(seq_ms);
    const auto bob = f.record("bob@ims.test");
    const auto challenge = auth.challenge(bob).challenges[0];
    const auto nonce = auth::decode_aka_nonce(param(challenge, "nonce"));
    const auto result = sim.authenticate(nonce->rand, nonce->autn);
    REQUIRE(result.status == aka::Usim::Status::sync_failure);

    Credentials credentials = answer(challenge, "bob@ims.test", "");
    credentials.auts = base64_encode(result.auts.data(), result.auts.size());
    const Verdict resync = auth.verify(bob, credentials, "REGISTER");
    REQUIRE(resync.kind == Kind::challenge);
    CHECK(resync.resynchronised);
    CHECK(resync.seq_ms == 500);
    CHECK(f.store.find("bob@ims.test")->seq == 501);

    const auto fresh = auth::decode_aka_nonce(param(resync.challenges[0], "nonce"));
    const auto accepted = sim.authenticate(fresh->rand, fresh->autn);
    REQUIRE(accepted.status == aka::Usim::Status::ok);
    CHECK(accepted.sqn == aka::make_sqn(501, 3));
}

TEST_CASE("aka: an AUTS of the wrong length or with a wrong MAC-S is refused")
{
    Fixture f;
    auto auth = f.make();
    const auto bob = f.record("bob@ims.test");
    Credentials credentials = answer(auth.challenge(bob).challenges[0], "bob@ims.test", "");
    credentials.auts = base64_encode(std::string(10, 'a'));
    CHECK(auth.verify(bob, credentials, "REGISTER").reason == "malformed_auts");
    credentials = answer(auth.challenge(bob).challenges[0], "bob@ims.test", "");
    credentials.auts = base64_encode(std::string(14, 'a'));
    const Verdict forged = auth.verify(bob, credentials, "REGISTER");
    CHECK(forged.kind == Kind::reject);
    CHECK(forged.reason == "auts_mac_mismatch");
    CHECK(f.store.find("bob@ims.test")->seq == 4); // two challenges, no resync
}

TEST_CASE("pending challenges are bounded in number and in time")
{
    Fixture f;
    f.config.max_pending = 10;
    auto auth = f.make();
    const auto alice = f.record("alice@ims.test");
    const auto oldest = auth.challenge(alice).challenges[0];
    for (int i = 0; i < 100; ++i)
        auth.challenge(alice);
    CHECK(auth.pending() == 10);
    // The oldest was evicted: answering it gets a stale challenge.
    CHECK(auth.verify(alice, answer(oldest, "alice@ims.test", "alice-secret"), "REGISTER").reason == "stale_nonce");
    f.now += 31s;
    auth.purge();
    CHECK(auth.pending() == 0);
}
