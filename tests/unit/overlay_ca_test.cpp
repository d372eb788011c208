// The overlay CA: node credentials chain to it, others do not, files name
// themselves in errors.
#include "cli/outcome.hpp"
#include "dht/overlay_ca.hpp"
#include "dht/state_files.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace imsp2p;
using namespace std::chrono_literals;

namespace {

unsigned mode_of(const std::filesystem::path& file)
{
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

// The Failure a call throws (REQUIREs one).
Failure failure_of(const std::function<void()>& call)
{
    try {
        call();
    } catch (const Failure& failure) {
        return failure;
    }
    FAIL("no Failure thrown");
    return Failure(Outcome::ok, "");
}

} // namespace

TEST_CASE("the overlay CA issues node credentials that chain to it", "[dht]")
{
    test::TempDir dir;
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const auto node = ca.issue("core1", 1h);
    CHECK(node.name() == "core1");
    CHECK(ca.credential().name() == "testbed CA");
    CHECK(dht::verify_issued(ca.cert(), node.cert(), std::time(nullptr)).empty());

    ca.save(dir.path());
    node.save(dir.path(), "core1");
    CHECK(mode_of(dir.path() / "ca.key") == 0600);
    CHECK(mode_of(dir.path() / "core1.key") == 0600);
    // Keys are never overwritten.
    CHECK(failure_of([&] { ca.save(dir.path()); }).outcome() == Outcome::usage);

    const auto loaded_ca = dht::OverlayCa::load(dir.path());
    const auto loaded = dht::load_node_credential(dir.path(), "core1", loaded_ca.cert());
    CHECK(loaded.name() == "core1");
    CHECK(loaded.cert_der() == node.cert_der());
    // A credential issued by the loaded CA chains to the original certificate.
    CHECK(dht::verify_issued(ca.cert(), loaded_ca.issue("core2", 1h).cert(), std::time(nullptr)).empty());
    // Node names become file names.
    CHECK(failure_of([&] { ca.issue("../x", 1h); }).outcome() == Outcome::usage);
    CHECK(failure_of([&] { ca.issue("ca", 1h); }).outcome() == Outcome::usage);
}

TEST_CASE("a certificate from another CA, or the CA's own, is refused", "[dht]")
{
    test::TempDir dir;
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const auto other = dht::OverlayCa::create("testbed CA", 24h); // same name, other key
    const auto stranger = other.issue("core1", 1h);
    CHECK_FALSE(dht::verify_issued(ca.cert(), stranger.cert(), std::time(nullptr)).empty());
    CHECK_FALSE(dht::verify_issued(ca.cert(), ca.cert(), std::time(nullptr)).empty());

    stranger.save(dir.path(), "core1");
    const auto failure = failure_of([&] { dht::load_node_credential(dir.path(), "core1", ca.cert()); });
    CHECK(failure.outcome() == Outcome::usage);
    CHECK_THAT(failure.what(), Catch::Contains("core1.crt") && Catch::Contains("not valid under the overlay CA"));
}

TEST_CASE("expired node and CA certificates are refused", "[dht]")
{
    const auto now = std::time(nullptr);
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    const auto node = ca.issue("core1", 1h);
    CHECK(dht::verify_issued(ca.cert(), node.cert(), now + 1800).empty());
    CHECK_THAT(dht::verify_issued(ca.cert(), node.cert(), now + 7200), Catch::Contains("expired"));
    CHECK_FALSE(dht::verify_issued(ca.cert(), node.cert(), now - 3600).empty()); // not yet valid

    const auto short_ca = dht::OverlayCa::create("short CA", 1h);
    const auto long_node = short_ca.issue("core2", 24h); // outlives its CA
    CHECK(dht::verify_issued(short_ca.cert(), long_node.cert(), now + 60).empty());
    CHECK_FALSE(dht::verify_issued(short_ca.cert(), long_node.cert(), now + 7200).empty());
}

TEST_CASE("unreadable credential files are named in the error", "[dht]")
{
    test::TempDir dir;
    const auto ca = dht::OverlayCa::create("testbed CA", 24h);
    auto failure = failure_of([&] { dht::OverlayCa::load(dir.path()); });
    CHECK(failure.outcome() == Outcome::usage);
    CHECK_THAT(failure.what(), Catch::Contains("ca.crt") && Catch::Contains("cannot read"));

    dht::write_file(dir.path() / "core1.crt", "not a certificate\n", 0644);
    failure = failure_of([&] { dht::load_node_credential(dir.path(), "core1", ca.cert()); });
    CHECK_THAT(failure.what(), Catch::Contains("core1.crt") && Catch::Contains("not a PEM certificate"));

    // A key that is not the certificate's.
    test::TempDir other;
    ca.issue("core1", 1h).save(dir.path(), "core2");
    ca.issue("core1", 1h).save(other.path(), "core2");
    std::filesystem::remove(dir.path() / "core2.key");
    std::filesystem::copy_file(other.path() / "core2.key", dir.path() / "core2.key");
    failure = failure_of([&] { dht::load_node_credential(dir.path(), "core2", ca.cert()); });
    CHECK(failure.outcome() == Outcome::usage);
    CHECK_THAT(failure.what(), Catch::Contains("core2.key") && Catch::Contains("not the key of"));
}
