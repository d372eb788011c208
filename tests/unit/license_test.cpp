// The licence server's pieces without HTTP: Digest header parsing, the HTTP
// authenticator (MD5, SHA-256, AKAv1, nc window, throttle), key sealing, and
// the group-committing CDR writer (duplicates, balance, conflicts), driven
// through LicenseService as the HTTP server does.
#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "auth/digest_header.hpp"
#include "license/cdr_writer.hpp"
#include "license/clearkey_request.hpp"
#include "license/failure_throttle.hpp"
#include "license/http_auth.hpp"
#include "license/key_cache.hpp"
#include "license/key_wrap.hpp"
#include "license/license_db.hpp"
#include "license/license_service.hpp"
#include "swarm/clearkey_license.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

using namespace imsp2p;
using namespace imsp2p::license;

namespace {

struct Fixture {
    test::TempDir dir;
    hss::SubscriberStore store{dir.path() / "hss.sqlite"};
    HttpAuthConfig config;
    std::unique_ptr<HttpAuthenticator> auth;

    Fixture()
    {
        store.import(test::rows(fmt::format("alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,\n"
                                            "bob@ims.test,sip:bob@ims.test,aka,,{},{},,8000,000000000040\n",
                                            test::test_k, test::test_op)));
        config.realm = "ims.test";
        config.max_failures = 3;
        auth = std::make_unique<HttpAuthenticator>(store, config);
    }
};

// The Authorization a client sends for `challenge_text` (one WWW-Authenticate value).
std::string authorization(const std::string& challenge_text, const std::string& user, const std::string& password,
                          unsigned nc = 1, const std::string& uri = "/license")
{
    const auto challenge = auth::parse_challenge(challenge_text);
    REQUIRE(challenge);
    const auth::DigestAnswer answer{user, password, "POST", uri, "c0ffee", nc, {}};
    return auth::digest_credentials(*challenge, answer);
}

std::string md5_challenge(const AuthResult& result)
{
    for (const auto& c : result.challenges)
        if (c.find("algorithm=MD5") != std::string::npos)
            return c;
    FAIL("no MD5 challenge");
    return {};
}

} // namespace

TEST_CASE("Digest parameters are read from header text", "[license]")
{
    const auto params = auth::parse_digest_params(R"(Digest username="a\"b", realm=ims.test,  nc=00000001 , qop=auth)");
    REQUIRE(params);
    CHECK(params->at("username") == "a\"b");
    CHECK(params->at("realm") == "ims.test");
    CHECK(params->at("nc") == "00000001");
    CHECK_FALSE(auth::parse_digest_params("Basic dXNlcjpwYXNz"));
    CHECK_FALSE(auth::parse_digest_params(R"(Digest username="open)"));
    CHECK_FALSE(auth::parse_digest_params("Digest username"));
    const auto challenge = auth::parse_challenge(R"(Digest realm="r", nonce="n", qop="auth-int, auth", algorithm=SHA-256, stale=TRUE)");
    REQUIRE(challenge);
    CHECK(challenge->qop_auth);
    CHECK(challenge->stale);
    CHECK(challenge->parsed_algorithm.hash == auth::DigestHash::sha256);
    CHECK_FALSE(auth::parse_challenge(R"(Digest realm="r", nonce="n", algorithm=SHA-512-256)"));
}

TEST_CASE("an anonymous challenge is answered by an md5 subscriber, with nc in a window", "[license]")
{
    Fixture f;
    const auto first = f.auth->check("", "POST", "/license");
    REQUIRE(first.kind == AuthResult::Kind::challenge);
    REQUIRE(first.challenges.size() == 2); // SHA-256 first, then MD5
    CHECK(first.challenges[0].find("SHA-256") != std::string::npos);
    const std::string challenge = md5_challenge(first);
    auto ok = f.auth->check(authorization(challenge, "alice@ims.test", "alice-secret", 1), "POST", "/license");
    CHECK(ok.kind == AuthResult::Kind::accept);
    CHECK(ok.impi == "alice@ims.test");
    // Out of order within the window is fine; a value seen before is a replay.
    CHECK(f.auth->check(authorization(challenge, "alice@ims.test", "alice-secret", 5), "POST", "/license").kind ==
          AuthResult::Kind::accept);
    CHECK(f.auth->check(authorization(challenge, "alice@ims.test", "alice-secret", 3), "POST", "/license").kind ==
          AuthResult::Kind::accept);
    const auto replay = f.auth->check(authorization(challenge, "alice@ims.test", "alice-secret", 3), "POST", "/license");
    CHECK(replay.kind == AuthResult::Kind::challenge);
    CHECK(replay.reason == "nonce_count_replay");
    // SHA-256 on the same nonce.
    CHECK(f.auth->check(authorization(first.challenges[0], "alice@ims.test", "alice-secret", 9), "POST", "/license").kind ==
          AuthResult::Kind::accept);
    // The uri must be the request's.
    CHECK(f.auth->check(authorization(challenge, "alice@ims.test", "alice-secret", 10, "/other"), "POST", "/license").kind ==
          AuthResult::Kind::bad_request);
}

TEST_CASE("wrong passwords are throttled per identity", "[license]")
{
    Fixture f;
    for (int i = 0; i < 3; ++i) {
        const auto challenge = md5_challenge(f.auth->check("", "POST", "/license"));
        const auto wrong = f.auth->check(authorization(challenge, "alice@ims.test", "guess"), "POST", "/license");
        CHECK(wrong.kind == AuthResult::Kind::challenge);
        CHECK(wrong.reason == "wrong_response");
    }
    const auto challenge = md5_challenge(f.auth->check("", "POST", "/license"));
    const auto blocked = f.auth->check(authorization(challenge, "alice@ims.test", "alice-secret"), "POST", "/license");
    CHECK(blocked.kind == AuthResult::Kind::throttled);
    CHECK(blocked.retry_after_s > 0);
}

TEST_CASE("failed attempts are throttled per source address too, whatever the names", "[license]")
{
    Fixture f;
    f.config.max_address_failures = 4;
    HttpAuthenticator auth(f.store, f.config);
    const std::string attacker = "127.0.0.9";
    for (int i = 0; i < 4; ++i) { // four names, one failure each: no identity reaches 3
        const auto challenge = md5_challenge(auth.check("", "POST", "/license", attacker));
        const auto wrong =
            auth.check(authorization(challenge, fmt::format("user{}@ims.test", i), "guess"), "POST", "/license", attacker);
        CHECK(wrong.kind == AuthResult::Kind::challenge);
    }
    const auto challenge = md5_challenge(auth.check("", "POST", "/license", "127.0.0.8"));
    const auto blocked = auth.check(authorization(challenge, "alice@ims.test", "alice-secret", 1), "POST", "/license", attacker);
    CHECK(blocked.kind == AuthResult::Kind::throttled);
    CHECK(blocked.address_throttled);
    CHECK(blocked.retry_after_s > 0);
    CHECK(auth.check("", "POST", "/license", attacker).kind == AuthResult::Kind::throttled); // no challenge either
    const auto other = auth.check(authorization(challenge, "alice@ims.test", "alice-secret", 2), "POST", "/license", "127.0.0.8");
    CHECK(other.kind == AuthResult::Kind::accept);
}

TEST_CASE("the failure tables are bounded, the least recently failed forgotten first", "[license]")
{
    using namespace std::chrono_literals;
    FailureThrottle throttle(2, 60s, 60s, 2);
    const auto now = FailureThrottle::Clock::now();
    throttle.record_failure("a", now);
    throttle.record_failure("b", now);
    throttle.record_failure("a", now); // a: blocked, and now the most recent
    CHECK(throttle.blocked_for("a", now) == 60);
    throttle.record_failure("c", now); // b goes
    CHECK(throttle.size() == 2);
    throttle.record_failure("b", now); // b starts again from 1: a goes, as the least recent now
    CHECK(throttle.size() == 2);
    CHECK(throttle.blocked_for("b", now) == 0);
    CHECK(throttle.blocked_for("a", now) == 0);
    throttle.record_failure("c", now);
    CHECK(throttle.blocked_for("c", now + 59s) == 1);
    CHECK(throttle.blocked_for("c", now + 60s) == 0);
}

TEST_CASE("an aka subscriber naming itself gets AKAv1-MD5 and answers with RES", "[license]")
{
    Fixture f;
    const auto result = f.auth->check(R"(Digest username="bob@ims.test", realm="ims.test", nonce="", uri="/license", response="")",
                                      "POST", "/license");
    REQUIRE(result.kind == AuthResult::Kind::challenge);
    REQUIRE(result.challenges.size() == 1);
    CHECK(result.challenges[0].find("AKAv1-MD5") != std::string::npos);
    const auto challenge = auth::parse_challenge(result.challenges[0]);
    const auto nonce = auth::decode_aka_nonce(challenge->nonce);
    REQUIRE(nonce);
    aka::Usim usim(aka::Milenage(aka::to_block(*from_hex(test::test_k), "k"),
                                 aka::Milenage::opc_from_op(aka::to_block(*from_hex(test::test_k), "k"),
                                                            aka::to_block(*from_hex(test::test_op), "op"))));
    const auto answer = usim.authenticate(nonce->rand, nonce->autn);
    REQUIRE(answer.status == aka::Usim::Status::ok);
    const std::string password = auth::aka_password(1, answer.res, answer.ik, answer.ck);
    CHECK(f.auth->check(authorization(result.challenges[0], "bob@ims.test", password), "POST", "/license").kind ==
          AuthResult::Kind::accept);
    // An anonymous MD5 nonce is no way in for an aka subscriber.
    const auto md5 = md5_challenge(f.auth->check("", "POST", "/license"));
    const auto refused = f.auth->check(authorization(md5, "bob@ims.test", "anything"), "POST", "/license");
    CHECK(refused.kind == AuthResult::Kind::challenge);
    CHECK(refused.reason == "aka_required");
}

TEST_CASE("content keys are sealed under the master key with the KID bound", "[license]")
{
    test::TempDir dir;
    const auto master = MasterKey::load_or_create(dir.path() / "master.key");
    CHECK((std::filesystem::status(dir.path() / "master.key").permissions() & std::filesystem::perms::group_read) ==
          std::filesystem::perms::none);
    const std::string kid(16, 'k'), key(16, 'x');
    const auto sealed = master.seal(kid, key);
    CHECK(sealed.find(key) == std::string::npos);
    CHECK(master.open(kid, sealed) == key);
    CHECK_FALSE(master.open(std::string(16, 'j'), sealed));
    const auto again = MasterKey::load_or_create(dir.path() / "master.key");
    CHECK(again.open(kid, sealed) == key);
}

TEST_CASE("licences are charged once per request id, never beyond the balance", "[license]")
{
    Fixture f;
    const auto path = f.dir.path() / "license.sqlite";
    LicenseDb db(path);
    CdrWriter cdrs(path, 64);
    const auto master = MasterKey::load_or_create(f.dir.path() / "master.key");
    LicenseService service(*f.auth, db, cdrs, master);
    const std::string kid(16, '\x01'), key(16, '\x02');
    db.put_content(Content{kid, "film", "carol@ims.test", master.seal(kid, key), Policy::pay_per_download, 30});
    db.add_balance("alice@ims.test", 50);

    const std::string challenge = md5_challenge(f.auth->check("", "POST", "/license"));
    const std::string body = R"({"kids":["AQEBAQEBAQEBAQEBAQEBAQ"],"type":"temporary"})";
    unsigned nc = 0;
    auto post = [&](const std::string& request_id, const std::string& text) {
        return service.handle(Request{"POST", "/license", text, authorization(challenge, "alice@ims.test", "alice-secret", ++nc),
                                      request_id, "127.0.0.1"});
    };
    const auto granted = post("r1", body);
    REQUIRE(granted.status == 200);
    const auto keys = swarm::parse_license(granted.body, "reply");
    REQUIRE(keys.size() == 1);
    CHECK(std::string(keys[0].key.begin(), keys[0].key.end()) == key);
    CHECK(post("r1", body).status == 200);  // a retry: granted, not charged
    CHECK(db.find_account("alice@ims.test")->balance == 20);
    CHECK(post("r2", body).status == 402);  // 20 < 30
    CHECK(db.cdrs().size() == 1);
    CHECK(post("r3", "{not json").status == 400);
    CHECK(post("r4", R"({"kids":["AgICAgICAgICAgICAgICAg"]})").status == 404);
    CHECK(post("bad id!", body).status == 400);
    // Subscription content: 403 without a subscription.
    const std::string kid2(16, '\x03');
    db.put_content(Content{kid2, "series", "carol@ims.test", master.seal(kid2, key), Policy::subscription, 0});
    CHECK(post("r5", R"({"kids":["AwMDAwMDAwMDAwMDAwMDAw"]})").status == 403);
    db.set_subscription("alice@ims.test", 4'000'000'000);
    CHECK(post("r6", R"({"kids":["AwMDAwMDAwMDAwMDAwMDAw"]})").status == 200);
    const auto records = db.cdrs();
    REQUIRE(records.size() == 2);
    CHECK(records[0].price == 30);
    CHECK(records[1].price == 0);
    CHECK(records[1].request_id == "r6");
}

TEST_CASE("a request for several KIDs is charged all or nothing", "[license]")
{
    Fixture f;
    const auto path = f.dir.path() / "license.sqlite";
    LicenseDb db(path);
    CdrWriter cdrs(path, 64);
    db.add_balance("alice@ims.test", 50);
    auto future = cdrs.submit({Grant{"alice@ims.test", "a", "01", "pay-per-download", "r1/01", 30},
                                     Grant{"alice@ims.test", "b", "02", "pay-per-download", "r1/02", 30}});
    CHECK(future.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    CHECK(future.get() == Charge::insufficient);
    CHECK(db.find_account("alice@ims.test")->balance == 50);
    CHECK(db.cdrs().empty());
    CHECK(cdrs.submit({Grant{"alice@ims.test", "a", "01", "pay-per-download", "r2/01", 30}}).get() == Charge::charged);
    CHECK(cdrs.submit({Grant{"alice@ims.test", "a", "02", "pay-per-download", "r2/01", 30}}).get() == Charge::conflict);
    CHECK(db.find_account("alice@ims.test")->balance == 20);
}

TEST_CASE("a Clear Key request is read as json::parse reads it, without its tree", "[license]")
{
    // What the service used to judge from the parsed tree, as the reader's fields.
    auto expected = [](const std::string& text) -> std::optional<ClearKeyRequest> {
        const auto body = nlohmann::json::parse(text, nullptr, false);
        if (body.is_discarded() || !body.is_object())
            return std::nullopt;
        ClearKeyRequest r;
        if (const auto kids = body.find("kids"); kids != body.end() && kids->is_array()) {
            r.kids_array = true;
            r.kid_count = kids->size();
            for (const auto& item : *kids)
                if (r.kids.size() < 2)
                    r.kids.push_back(item.is_string() ? std::optional(item.get<std::string>()) : std::nullopt);
        }
        if (const auto type = body.find("type"); type != body.end()) {
            r.type_given = true;
            r.type_temporary = type->is_string() && *type == "temporary";
        }
        return r;
    };
    for (const std::string text :
         {R"({"kids":["AQEBAQEBAQEBAQEBAQEBAQ"],"type":"temporary"})", R"({"kids":[]})", R"({"kids":"x"})",
          R"({"kids":{"a":["b"]},"type":"temporary"})", R"({"kids":[1,null,{"kids":["x"]},["y"],"z","w"]})",
          R"({"type":"persistent-license","kids":["a"]})", R"({"type":["temporary"]})", R"({"type":"temporary","type":1})",
          R"({"kids":["a"],"kids":5})", R"({"kids":5,"kids":["b","c"]})", R"({"x":{"kids":["a"],"type":"t"},"kids":["q"]})",
          R"({"kids":["\u00e9t\u00e9"]})", "[1]", "\"kids\"", "null", "{\"kids\":[", "{} x", "{\"a\":\"\xff\"}", "",
          "  {\"kids\" : [ \"a\" ] }  "}) {
        INFO(text);
        const auto got = read_clearkey_request(text, 2);
        const auto want = expected(text);
        REQUIRE(got.has_value() == want.has_value());
        if (!got)
            continue;
        CHECK(got->kids_array == want->kids_array);
        CHECK(got->kid_count == want->kid_count);
        CHECK(got->kids == want->kids);
        CHECK(got->type_given == want->type_given);
        CHECK(got->type_temporary == want->type_temporary);
    }
}

TEST_CASE("unsealed keys are cached only while their sealed text stays", "[license]")
{
    test::TempDir dir;
    const auto master = MasterKey::load_or_create(dir.path() / "master.key");
    KeyCache cache(master, 1);
    const std::string kid(16, 'k'), other(16, 'o');
    const auto first = master.seal(kid, std::string(16, 'a'));
    const auto second = master.seal(kid, std::string(16, 'b'));
    CHECK(cache.open(kid, first) == std::string(16, 'a'));
    CHECK(cache.open(kid, first) == std::string(16, 'a'));
    CHECK(cache.open(kid, second) == std::string(16, 'b')); // a new deposit: the new key
    CHECK_FALSE(cache.open(other, second));                 // bound to its KID, cached or not
    CHECK(cache.open(other, master.seal(other, std::string(16, 'c'))) == std::string(16, 'c')); // over capacity: starts over
    CHECK(cache.open(kid, second) == std::string(16, 'b'));
}
