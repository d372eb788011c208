// Signed overlay records: round trip, every field covered by the signature,
// signers checked against the CA; and what signing and checking cost.
#include "dht/overlay_ca.hpp"
#include "dht/signed_record.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <opendht/crypto.h>

#include <time.h>

#include <iostream>

// Inside the namespace: dht:: is ours here, ::dht OpenDHT's.
namespace imsp2p {

using namespace std::chrono_literals;

namespace {

dht::Record sample(std::time_t now)
{
    return {"sip:alice@ims.test", "binding", Bytes{'{', '}', 0, 0xff}, 1700000000123, now + 3600, {}};
}

// Decodes, changes one field, encodes again with the original signature.
Bytes tampered(const Bytes& data, const std::function<void(dht::Record&)>& change)
{
    auto decoded = dht::decode_record(data);
    REQUIRE(decoded);
    change(decoded->record);
    return dht::encode_record(decoded->record, decoded->signature);
}

double thread_cpu_us()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

} // namespace

TEST_CASE("a signed record round-trips and checks", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const auto credential = ca.issue("core1", 1h);
    const dht::RecordSigner signer(credential);
    const dht::Verifier verifier(ca.credential().cert_ptr());
    const auto data = signer.sign(sample(now));

    const auto checked = verifier.check(data, "sip:alice@ims.test", now);
    REQUIRE(checked.ok());
    CHECK(checked.signer_name == "core1");
    CHECK(checked.record.key == "sip:alice@ims.test");
    CHECK(checked.record.kind == "binding");
    CHECK(checked.record.payload == sample(now).payload);
    CHECK(checked.record.seq == 1700000000123);
    CHECK(checked.record.expires == now + 3600);
    CHECK(checked.record.signer == credential.cert_der());
    // The encoding is deterministic, and Ed25519 signatures too.
    CHECK(signer.sign(sample(now)) == data);
    CHECK(data.size() < 700);
    INFO("a binding-sized record is " << data.size() << " bytes");
}

TEST_CASE("a record changed in any field is refused", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const dht::RecordSigner signer(ca.issue("core1", 1h));
    const dht::Verifier verifier(ca.credential().cert_ptr());
    const auto data = signer.sign(sample(now));
    const auto bad = [&](const Bytes& changed, const std::string& key = "sip:alice@ims.test") {
        return verifier.check(changed, key, now).verdict;
    };
    CHECK(bad(tampered(data, [](auto& r) { r.payload.back() ^= 1; })) == dht::Verdict::bad_signature);
    CHECK(bad(tampered(data, [](auto& r) { r.seq += 1; })) == dht::Verdict::bad_signature);
    CHECK(bad(tampered(data, [](auto& r) { r.expires += 3600; })) == dht::Verdict::bad_signature);
    CHECK(bad(tampered(data, [](auto& r) { r.kind = "content"; })) == dht::Verdict::bad_signature);
    // Replayed under another key: the key inside no longer matches, and
    // changing it breaks the signature.
    CHECK(bad(data, "sip:bob@ims.test") == dht::Verdict::wrong_key);
    CHECK(bad(tampered(data, [](auto& r) { r.key = "sip:bob@ims.test"; }), "sip:bob@ims.test") == dht::Verdict::bad_signature);
    auto flipped = data;
    flipped.back() ^= 0x80;
    CHECK(bad(flipped) == dht::Verdict::bad_signature);
    CHECK(bad(Bytes(data.begin(), data.end() - 1)) == dht::Verdict::malformed);
    CHECK(bad(Bytes{'I', 'M', 'R', '1'}) == dht::Verdict::malformed);
    CHECK(bad(Bytes(200, 0xff)) == dht::Verdict::malformed);
    CHECK(verifier.check(data, "sip:alice@ims.test", now + 3600).verdict == dht::Verdict::expired);
}

TEST_CASE("records of signers outside the CA are refused", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const auto rogue_ca = dht::OverlayCa::create("testbed CA", 24h);
    const dht::Verifier verifier(ca.credential().cert_ptr());

    const dht::RecordSigner rogue(rogue_ca.issue("core1", 1h));
    auto checked = verifier.check(rogue.sign(sample(now)), "sip:alice@ims.test", now);
    CHECK(checked.verdict == dht::Verdict::untrusted_signer);
    CHECK_THAT(checked.why, Catch::Contains("core1"));
    // The CA's own key does not write values.
    CHECK(verifier.check(dht::RecordSigner(ca.credential()).sign(sample(now)), now).verdict == dht::Verdict::untrusted_signer);
    // A good signer's certificate swapped in: the signature is not its.
    const dht::RecordSigner good(ca.issue("core2", 1h));
    const auto swapped = tampered(rogue.sign(sample(now)), [&](auto& r) {
        r.signer = dht::decode_record(good.sign(sample(now)))->record.signer;
    });
    CHECK(verifier.check(swapped, now).verdict == dht::Verdict::bad_signature);
    // A signer whose certificate has expired (checked even once cached).
    auto record = sample(now);
    record.expires = now + 3 * 3600;
    const auto data = good.sign(record);
    CHECK(verifier.check(data, now).ok());
    CHECK(verifier.check(data, now + 2 * 3600).verdict == dht::Verdict::untrusted_signer);
}

TEST_CASE("the verifier remembers a bounded number of signers", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const dht::Verifier verifier(ca.credential().cert_ptr(), 2);
    for (int i = 0; i < 4; ++i) {
        const dht::RecordSigner signer(ca.issue("core" + std::to_string(i), 1h));
        for (int j = 0; j < 3; ++j)
            CHECK(verifier.check(signer.sign(sample(now)), now).ok());
    }
    CHECK(verifier.cached_signers() == 2);
}

TEST_CASE("signing and checking cost per record, against RSA as putSigned uses", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const dht::RecordSigner signer(ca.issue("core1", 1h));
    const dht::Verifier verifier(ca.credential().cert_ptr());
    constexpr int n = 2000;
    std::vector<Bytes> signed_records;
    signed_records.reserve(n);
    auto record = sample(now);
    auto start = thread_cpu_us();
    for (int i = 0; i < n; ++i) {
        record.seq = static_cast<std::uint64_t>(i);
        signed_records.push_back(signer.sign(record));
    }
    const double sign_us = (thread_cpu_us() - start) / n;
    start = thread_cpu_us();
    int ok = 0;
    for (const auto& data : signed_records)
        ok += verifier.check(data, record.key, now).ok();
    const double verify_us = (thread_cpu_us() - start) / n;
    CHECK(ok == n);
    // A signer's first record pays the X.509 path check.
    start = thread_cpu_us();
    const dht::RecordSigner fresh(ca.issue("core2", 1h));
    const auto first = fresh.sign(record);
    const double issue_us = thread_cpu_us() - start;
    start = thread_cpu_us();
    CHECK(verifier.check(first, now).ok());
    const double first_verify_us = thread_cpu_us() - start;

    // OpenDHT's signed values: RSA-2048 over a similar payload (putSigned also
    // does a get and a put: ~7 CPU-ms per value, NOTES-deps.md).
    const auto rsa = ::dht::crypto::PrivateKey::generate(2048);
    constexpr int m = 50;
    std::vector<::dht::Blob> rsa_signatures;
    start = thread_cpu_us();
    for (int i = 0; i < m; ++i)
        rsa_signatures.push_back(rsa.sign(signed_records[static_cast<std::size_t>(i)]));
    const double rsa_sign_us = (thread_cpu_us() - start) / m;
    start = thread_cpu_us();
    for (int i = 0; i < m; ++i)
        CHECK(rsa.getPublicKey().checkSignature(signed_records[static_cast<std::size_t>(i)], rsa_signatures[static_cast<std::size_t>(i)]));
    const double rsa_verify_us = (thread_cpu_us() - start) / m;

    std::cout << fmt::format("[dht] per record ({} bytes): Ed25519 sign {:.1f} us, check {:.1f} us (cached signer), "
                             "first check of a new signer {:.0f} us, issuing a credential {:.0f} us; "
                             "RSA-2048 sign {:.0f} us, verify {:.0f} us; putSigned ~7000 us CPU\n",
                             signed_records.front().size(), sign_us, verify_us, first_verify_us, issue_us, rsa_sign_us,
                             rsa_verify_us);
}

} // namespace imsp2p
