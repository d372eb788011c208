// Overlay records: round trip, every field covered by the MAC, records under
// another overlay key refused; and what writing and checking cost beside the
// signatures this scheme replaced.
#include "dht/overlay_ca.hpp"
#include "dht/signed_record.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <opendht/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <time.h>

#include <fstream>
#include <iostream>

// Inside the namespace: dht:: is ours here, ::dht OpenDHT's.
namespace imsp2p {

using namespace std::chrono_literals;

namespace {

dht::Record sample(std::time_t now)
{
    return {"sip:alice@ims.test", "binding", Bytes{'{', '}', 0, 0xff}, 1700000000123, now + 3600, {}};
}

// Decodes, changes one field, encodes again with the original key id and MAC.
Bytes tampered(const Bytes& data, const std::function<void(dht::Record&)>& change)
{
    auto decoded = dht::decode_record(data);
    REQUIRE(decoded);
    change(decoded->record);
    return dht::encode_record(decoded->record, decoded->key_id, decoded->mac);
}

double thread_cpu_us()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

} // namespace

TEST_CASE("a record round-trips and checks", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto key = dht::OverlayKey::generate();
    const dht::RecordSigner writer(key, "core1");
    const dht::Verifier verifier(key);
    const auto data = writer.sign(sample(now));

    const auto checked = verifier.check(data, "sip:alice@ims.test", now);
    REQUIRE(checked.ok());
    CHECK(checked.writer == "core1");
    CHECK(checked.record.key == "sip:alice@ims.test");
    CHECK(checked.record.kind == "binding");
    CHECK(checked.record.payload == sample(now).payload);
    CHECK(checked.record.seq == 1700000000123);
    CHECK(checked.record.expires == now + 3600);
    CHECK(writer.sign(sample(now)) == data); // deterministic encoding
    CHECK(data.size() < 150);
    INFO("a binding-sized record is " << data.size() << " bytes");
}

TEST_CASE("a record changed in any field is refused", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto key = dht::OverlayKey::generate();
    const dht::RecordSigner writer(key, "core1");
    const dht::Verifier verifier(key);
    const auto data = writer.sign(sample(now));
    const auto bad = [&](const Bytes& changed, const std::string& dht_key = "sip:alice@ims.test") {
        return verifier.check(changed, dht_key, now).verdict;
    };
    CHECK(bad(tampered(data, [](auto& r) { r.payload.back() ^= 1; })) == dht::Verdict::bad_mac);
    CHECK(bad(tampered(data, [](auto& r) { r.seq += 1; })) == dht::Verdict::bad_mac);
    CHECK(bad(tampered(data, [](auto& r) { r.expires += 3600; })) == dht::Verdict::bad_mac);
    CHECK(bad(tampered(data, [](auto& r) { r.kind = "content"; })) == dht::Verdict::bad_mac);
    CHECK(bad(tampered(data, [](auto& r) { r.writer = "core2"; })) == dht::Verdict::bad_mac);
    // Replayed under another key: the key inside no longer matches, and
    // changing it breaks the MAC.
    CHECK(bad(data, "sip:bob@ims.test") == dht::Verdict::wrong_key);
    CHECK(bad(tampered(data, [](auto& r) { r.key = "sip:bob@ims.test"; }), "sip:bob@ims.test") == dht::Verdict::bad_mac);
    auto flipped = data;
    flipped.back() ^= 0x80;
    CHECK(bad(flipped) == dht::Verdict::bad_mac);
    CHECK(bad(Bytes(data.begin(), data.end() - 1)) == dht::Verdict::malformed);
    CHECK(bad(Bytes{'I', 'M', 'R', '2'}) == dht::Verdict::malformed);
    CHECK(bad(Bytes(200, 0xff)) == dht::Verdict::malformed);
    CHECK(verifier.check(data, "sip:alice@ims.test", now + 3600).verdict == dht::Verdict::expired);
}

TEST_CASE("records under another overlay's key are refused, even with our key's id", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto ours = dht::OverlayKey::generate();
    const auto theirs = dht::OverlayKey::generate();
    const dht::Verifier verifier(ours);

    const dht::RecordSigner rogue(theirs, "core1"); // even borrows a real node's name
    const auto forged = rogue.sign(sample(now));
    auto checked = verifier.check(forged, "sip:alice@ims.test", now);
    CHECK(checked.verdict == dht::Verdict::unknown_overlay_key);
    CHECK(checked.writer == "core1");
    // Claiming our key's id does not help without the key.
    auto decoded = dht::decode_record(forged);
    REQUIRE(decoded);
    CHECK(verifier.check(dht::encode_record(decoded->record, ours.id(), decoded->mac), now).verdict == dht::Verdict::bad_mac);
}

TEST_CASE("an overlay key file is created 0600, loaded, and refused when unsafe or damaged", "[dht]")
{
    test::TempDir dir;
    const auto file = dir.path() / "overlay.key";
    const auto key = dht::OverlayKey::generate();
    key.save(file);
    struct stat info{};
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    const auto loaded = dht::OverlayKey::load(file);
    CHECK(loaded.id() == key.id());
    const auto now = std::time(nullptr);
    CHECK(dht::Verifier(loaded).check(dht::RecordSigner(key, "core1").sign(sample(now)), now).ok());
    CHECK_THROWS_WITH(key.save(file), Catch::Contains("exists"));

    ::chmod(file.c_str(), 0644);
    CHECK_THROWS_WITH(dht::OverlayKey::load(file), Catch::Contains("readable by others"));
    const auto short_file = dir.path() / "short.key";
    std::ofstream(short_file) << "abcd\n";
    ::chmod(short_file.c_str(), 0600);
    CHECK_THROWS_WITH(dht::OverlayKey::load(short_file), Catch::Contains("not an overlay key"));
    CHECK_THROWS_WITH(dht::OverlayKey::load(dir.path() / "missing.key"), Catch::Contains("cannot read"));
}

TEST_CASE("writing and checking cost per record, beside Ed25519 and RSA signatures", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto key = dht::OverlayKey::generate();
    const dht::RecordSigner writer(key, "core1");
    const dht::Verifier verifier(key);
    constexpr int n = 20000;
    std::vector<Bytes> records;
    records.reserve(n);
    auto record = sample(now);
    auto start = thread_cpu_us();
    for (int i = 0; i < n; ++i) {
        record.seq = static_cast<std::uint64_t>(i);
        records.push_back(writer.sign(record));
    }
    const double write_us = (thread_cpu_us() - start) / n;
    start = thread_cpu_us();
    int ok = 0;
    for (const auto& data : records)
        ok += verifier.check(data, record.key, now).ok();
    const double check_us = (thread_cpu_us() - start) / n;
    CHECK(ok == n);

    // What the records were before: an Ed25519 signature each, by a key the
    // overlay CA certified.
    const auto credential = dht::OverlayCa::create("testbed CA", 24h).issue("core1", 1h);
    constexpr int m = 500;
    std::vector<std::array<unsigned char, 64>> signatures(m);
    start = thread_cpu_us();
    for (int i = 0; i < m; ++i) {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        std::size_t size = 64;
        const auto& data = records[static_cast<std::size_t>(i)];
        REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, credential.key()) == 1);
        REQUIRE(EVP_DigestSign(ctx.get(), signatures[static_cast<std::size_t>(i)].data(), &size, data.data(), data.size()) == 1);
    }
    const double ed_sign_us = (thread_cpu_us() - start) / m;
    EVP_PKEY* public_key = X509_get0_pubkey(credential.cert());
    start = thread_cpu_us();
    for (int i = 0; i < m; ++i) {
        std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        const auto& data = records[static_cast<std::size_t>(i)];
        REQUIRE(EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, public_key) == 1);
        CHECK(EVP_DigestVerify(ctx.get(), signatures[static_cast<std::size_t>(i)].data(), 64, data.data(), data.size()) == 1);
    }
    const double ed_verify_us = (thread_cpu_us() - start) / m;

    // OpenDHT's signed values: RSA-2048 (putSigned also does a get and a put:
    // ~7 CPU-ms per value, NOTES-deps.md).
    const auto rsa = ::dht::crypto::PrivateKey::generate(2048);
    constexpr int r = 50;
    std::vector<::dht::Blob> rsa_signatures;
    start = thread_cpu_us();
    for (int i = 0; i < r; ++i)
        rsa_signatures.push_back(rsa.sign(records[static_cast<std::size_t>(i)]));
    const double rsa_sign_us = (thread_cpu_us() - start) / r;
    start = thread_cpu_us();
    for (int i = 0; i < r; ++i)
        CHECK(rsa.getPublicKey().checkSignature(records[static_cast<std::size_t>(i)], rsa_signatures[static_cast<std::size_t>(i)]));
    const double rsa_verify_us = (thread_cpu_us() - start) / r;

    std::cout << fmt::format("[dht] per record ({} bytes): HMAC-SHA256 write {:.2f} us, check {:.2f} us; "
                             "Ed25519 sign {:.1f} us, verify {:.1f} us; RSA-2048 sign {:.0f} us, verify {:.0f} us; "
                             "putSigned ~7000 us CPU\n",
                             records.front().size(), write_us, check_us, ed_sign_us, ed_verify_us, rsa_sign_us, rsa_verify_us);
}

} // namespace imsp2p
