// Content records: signed by a publisher certified by the overlay CA, every
// field covered by the signature, each refusal named by its verdict.
#include "cli/outcome.hpp"
#include "dht/content_record.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

using namespace imsp2p;
using namespace std::chrono_literals;

namespace {

dht::ContentRecord sample(std::time_t now)
{
    dht::ContentRecord record;
    record.info.content_id = "movie-1";
    record.info.info_hash_v1 = std::string(40, 'a');
    record.info.info_hash_v2 = std::string(64, 'b');
    record.info.magnet = "magnet:?xt=urn:btih:" + std::string(40, 'a');
    record.info.kid = std::string(32, 'c');
    record.info.license_server = "http://127.0.0.1:8080";
    record.info.name = "movie.enc";
    record.info.size = 12345;
    record.seq = 1000;
    record.expires = now + 3600;
    return record;
}

// The position of `text` in the encoded record (REQUIREs it to be there).
std::size_t find(const Bytes& data, const std::string& text)
{
    const auto it = std::search(data.begin(), data.end(), text.begin(), text.end());
    REQUIRE(it != data.end());
    return static_cast<std::size_t>(it - data.begin());
}

struct Pki {
    dht::OverlayCa ca = dht::OverlayCa::create("testbed CA", 24h);
    dht::ContentSigner publisher{ca.issue("studio", 1h)};
    dht::ContentVerifier verifier{ca.credential().cert_ptr()};
};

} // namespace

TEST_CASE("a content record round-trips and verifies against the CA", "[dht][content]")
{
    Pki pki;
    const auto now = std::time(nullptr);
    const auto encoded = pki.publisher.sign(sample(now));
    const auto checked = pki.verifier.check(encoded, "movie-1", now);
    REQUIRE(checked.ok());
    CHECK(checked.key == "content:movie-1");
    CHECK(checked.publisher == "studio");
    const auto& info = checked.record.info;
    CHECK(info.content_id == "movie-1");
    CHECK(info.publisher == "studio");
    CHECK(info.info_hash_v1 == std::string(40, 'a'));
    CHECK(info.info_hash_v2 == std::string(64, 'b'));
    CHECK(info.kid == std::string(32, 'c'));
    CHECK(info.license_server == "http://127.0.0.1:8080");
    CHECK(info.name == "movie.enc");
    CHECK(info.size == 12345);
    CHECK(checked.record.seq == 1000);
    CHECK(checked.record.expires == now + 3600);
    CHECK(pki.verifier.cached_signers() == 1);
    // The second check of the same publisher hits the cache.
    CHECK(pki.verifier.check(encoded, now).ok());
    CHECK(pki.verifier.cached_signers() == 1);

    const auto envelope = dht::decode_content_envelope(encoded);
    REQUIRE(envelope);
    CHECK(dht::encode_content_envelope(*envelope) == encoded);
}

TEST_CASE("content records: every refusal has its verdict", "[dht][content]")
{
    Pki pki;
    const auto now = std::time(nullptr);
    const auto good = pki.publisher.sign(sample(now));
    using V = dht::ContentVerdict;

    SECTION("tampered payload, key, sequence or expiry: bad signature")
    {
        for (const std::string field : {"movie.enc", "content:movie-1", "http://127.0.0.1:8080"}) {
            auto data = good;
            data[find(data, field) + 2] ^= 0x01;
            const auto checked = pki.verifier.check(data, now);
            INFO(field);
            CHECK(checked.verdict == V::bad_signature);
            CHECK(checked.publisher == "studio");
        }
        auto envelope = *dht::decode_content_envelope(good);
        envelope.seq += 1;
        CHECK(pki.verifier.check(dht::encode_content_envelope(envelope), now).verdict == V::bad_signature);
        envelope = *dht::decode_content_envelope(good);
        envelope.expires -= 1;
        CHECK(pki.verifier.check(dht::encode_content_envelope(envelope), now).verdict == V::bad_signature);
        envelope = *dht::decode_content_envelope(good);
        envelope.signature[0] ^= 0x80;
        CHECK(pki.verifier.check(dht::encode_content_envelope(envelope), now).verdict == V::bad_signature);
    }
    SECTION("expired, and too far ahead")
    {
        const auto checked = pki.verifier.check(good, now + 3600);
        CHECK(checked.verdict == V::expired);
        auto record = sample(now);
        record.expires = now + dht::max_content_lifetime + 60;
        CHECK(pki.verifier.check(pki.publisher.sign(record), now).verdict == V::malformed);
    }
    SECTION("a publisher of another CA, or the CA's own key: untrusted signer")
    {
        const auto other = dht::OverlayCa::create("other CA", 24h);
        const dht::ContentSigner stranger(other.issue("studio", 1h));
        const auto checked = pki.verifier.check(stranger.sign(sample(now)), now);
        CHECK(checked.verdict == V::untrusted_signer);
        CHECK(checked.publisher == "studio");
        CHECK_THAT(checked.why, Catch::Contains("not certified by the overlay CA"));
        const dht::ContentSigner ca_itself(pki.ca.credential());
        CHECK(pki.verifier.check(ca_itself.sign(sample(now)), now).verdict == V::untrusted_signer);
        CHECK(pki.verifier.cached_signers() == 0); // refusals are not remembered
    }
    SECTION("written for another content id: wrong key")
    {
        CHECK(pki.verifier.check(good, "movie-2", now).verdict == V::wrong_key);
    }
    SECTION("truncated, extended or junk: malformed")
    {
        CHECK(pki.verifier.check(Bytes(good.begin(), good.end() - 1), now).verdict == V::malformed);
        auto longer = good;
        longer.push_back(0);
        CHECK(pki.verifier.check(longer, now).verdict == V::malformed);
        CHECK(pki.verifier.check(Bytes(100, 0x41), now).verdict == V::malformed);
        CHECK(pki.verifier.check(Bytes{}, now).verdict == V::malformed);
    }
    CHECK(dht::verdict_name(V::untrusted_signer) == "untrusted-signer");
    CHECK(dht::verdict_name(V::bad_signature) == "bad-signature");
}

TEST_CASE("content records: fields out of bounds are not signed", "[dht][content]")
{
    Pki pki;
    const auto now = std::time(nullptr);
    auto refused = [&](auto change) {
        auto record = sample(now);
        change(record.info);
        try {
            pki.publisher.sign(record);
        } catch (const Failure& failure) {
            return failure.outcome() == Outcome::usage;
        }
        return false;
    };
    CHECK(refused([](dht::ContentInfo& i) { i.content_id = "a b"; }));
    CHECK(refused([](dht::ContentInfo& i) { i.content_id = std::string(129, 'x'); }));
    CHECK(refused([](dht::ContentInfo& i) { i.info_hash_v1.clear(), i.info_hash_v2.clear(); }));
    CHECK(refused([](dht::ContentInfo& i) { i.info_hash_v1 = "abc"; }));
    CHECK(refused([](dht::ContentInfo& i) { i.kid = "zz"; }));
    CHECK(refused([](dht::ContentInfo& i) { i.magnet = "http://example"; }));
    CHECK(refused([](dht::ContentInfo& i) { i.license_server = "ftp://x"; }));
    CHECK(refused([](dht::ContentInfo& i) { i.name = std::string(2000, 'n'); }));
    CHECK_FALSE(refused([](dht::ContentInfo& i) { i.kid.clear(), i.license_server.clear(), i.info_hash_v2.clear(); }));
}

TEST_CASE("content records: keys and value ids", "[dht][content]")
{
    CHECK(dht::content_key("movie-1") == "content:movie-1");
    CHECK(dht::content_value_id("studio", "movie-1") == dht::content_value_id("studio", "movie-1"));
    CHECK(dht::content_value_id("studio", "movie-1") != dht::content_value_id("other", "movie-1"));
    CHECK(dht::content_value_id("studio", "movie-1") != 0);
    CHECK_THROWS_AS(dht::check_content_id("no/slash", "--content"), Failure);
    CHECK_NOTHROW(dht::check_content_id("Movie_1.v2~x-y", "--content"));
}
