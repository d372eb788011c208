// Load balancing without a balancer: load records signed by node
// certificates of the overlay CA (forgeries and stale ones refused), the
// sliding-window meter, the shedder's decisions, and the weighted pick that
// favours idle nodes without sending everyone to the same one.
#include "core/load_meter.hpp"
#include "core/load_record.hpp"
#include "core/shedder.hpp"
#include "ue/core_discovery.hpp"

#include <catch2/catch.hpp>

#include <map>

using namespace imsp2p;
using namespace std::chrono_literals;

namespace {

core::CoreLoad sample(const std::string& node, double rate, double cap)
{
    core::CoreLoad load;
    load.node = node;
    load.sip = "sip:127.0.110.1:5060";
    load.rate = rate;
    load.cap = cap;
    load.registrations = 42;
    load.cpu = 0.25;
    load.timestamp_ms = 1000;
    return load;
}

struct Pki {
    dht::OverlayCa ca = dht::OverlayCa::create("testbed CA", 24h);
    dht::Credential n1 = ca.issue("n1", 1h);
    dht::ContentVerifier verifier{ca.credential().cert_ptr()};
};

} // namespace

TEST_CASE("a load record round-trips and verifies against the CA", "[load]")
{
    Pki pki;
    const auto now = std::time(nullptr);
    const auto data = core::sign_load(pki.n1, sample("n1", 12.5, 50), now + 6);
    const auto checked = core::check_load(pki.verifier, data, now);
    REQUIRE(checked.ok());
    CHECK(checked.load.node == "n1");
    CHECK(checked.load.sip == "sip:127.0.110.1:5060");
    CHECK(checked.load.rate == 12.5);
    CHECK(checked.load.cap == 50);
    CHECK(checked.load.registrations == 42);
    CHECK(checked.load.expires == now + 6);
    CHECK(checked.load.utilisation() == Approx(0.25));
}

TEST_CASE("forged, tampered, misnamed and expired load records are refused", "[load]")
{
    Pki pki;
    const auto now = std::time(nullptr);
    auto data = core::sign_load(pki.n1, sample("n1", 1, 0), now + 6);

    SECTION("expired")
    {
        CHECK(core::check_load(pki.verifier, data, now + 7).verdict == dht::ContentVerdict::expired);
    }
    SECTION("a byte of the payload changed")
    {
        auto tampered = data;
        const std::string rate = "\"rate\":1";
        const auto at = std::search(tampered.begin(), tampered.end(), rate.begin(), rate.end());
        REQUIRE(at != tampered.end());
        *(at + static_cast<std::ptrdiff_t>(rate.size()) - 1) = '9';
        CHECK(core::check_load(pki.verifier, tampered, now).verdict == dht::ContentVerdict::bad_signature);
    }
    SECTION("signed by a node of another CA")
    {
        auto other = dht::OverlayCa::create("mallory", 24h);
        const auto forged = core::sign_load(other.issue("n1", 1h), sample("n1", 0, 0), now + 6);
        CHECK(core::check_load(pki.verifier, forged, now).verdict == dht::ContentVerdict::untrusted_signer);
    }
    SECTION("a node cannot sign another node's record")
    {
        CHECK_THROWS_AS(core::sign_load(pki.n1, sample("n2", 0, 0), now + 6), Failure);
    }
    SECTION("not a record at all")
    {
        CHECK(core::check_load(pki.verifier, Bytes{1, 2, 3}, now).verdict == dht::ContentVerdict::malformed);
    }
    SECTION("a lifetime beyond the limit")
    {
        const auto far = core::sign_load(pki.n1, sample("n1", 0, 0), now + core::max_load_lifetime + 60);
        CHECK(core::check_load(pki.verifier, far, now).verdict == dht::ContentVerdict::malformed);
    }
}

TEST_CASE("newest_loads keeps each node's newest valid record", "[load]")
{
    Pki pki;
    const auto now = std::time(nullptr);
    auto old_load = sample("n1", 1, 0);
    auto new_load = sample("n1", 2, 0);
    new_load.timestamp_ms = 2000;
    std::vector<Bytes> values{core::sign_load(pki.n1, new_load, now + 6), core::sign_load(pki.n1, old_load, now + 6),
                              Bytes{0}};
    std::vector<core::LoadChecked> refused;
    const auto loads = core::newest_loads(pki.verifier, values, now, &refused);
    REQUIRE(loads.size() == 1);
    CHECK(loads[0].rate == 2);
    CHECK(refused.size() == 1);
}

TEST_CASE("the load meter counts over a sliding window", "[load]")
{
    core::LoadMeter meter(1000ms, 10);
    const auto t0 = core::LoadMeter::Clock::time_point(100s);
    for (int i = 0; i < 50; ++i)
        meter.add(t0 + std::chrono::milliseconds(i * 10)); // 50 in the first 500 ms
    CHECK(meter.in_window(t0 + 500ms) == 50);
    CHECK(meter.rate(t0 + 900ms) == Approx(50));
    CHECK(meter.in_window(t0 + 1300ms) == 10);  // only the bucket of 400-500 ms is left
    CHECK(meter.in_window(t0 + 10s) == 0);
}

TEST_CASE("the shedder serves up to the threshold, then redirects REGISTER and rejects the rest", "[load]")
{
    core::ShedOptions options;
    options.max_rate = 10;
    options.threshold = 0.8;
    core::Shedder shedder(options, "n1");
    auto busy = sample("n2", 45, 50);
    busy.sip = "sip:n2";
    auto idle = sample("n3", 1, 0);
    idle.sip = "sip:n3";
    idle.cpu = 0.1;
    auto self = sample("n1", 0, 0);
    shedder.set_peers({busy, idle, self});
    const auto t0 = core::Shedder::Clock::time_point(100s);
    for (int i = 0; i < 8; ++i)
        CHECK(shedder.admit(true, true, t0).decision == core::Shedder::Decision::serve);
    const auto redirected = shedder.admit(true, true, t0);
    CHECK(redirected.decision == core::Shedder::Decision::redirect);
    CHECK(redirected.alternatives == std::vector<std::string>{"sip:n3"}); // n2 is at 90 %, n1 is this node
    CHECK(shedder.admit(false, true, t0).decision == core::Shedder::Decision::reject);
    // Work already started (credentials answering our challenge) is finished here.
    CHECK(shedder.admit(true, false, t0).decision == core::Shedder::Decision::serve);
    CHECK(shedder.overloaded(t0));
    CHECK(shedder.peak() == 8);
    // A second later the window is empty again.
    CHECK(shedder.admit(true, true, t0 + 1100ms).decision == core::Shedder::Decision::serve);

    core::Shedder uncapped(core::ShedOptions{}, "n1");
    for (int i = 0; i < 1000; ++i)
        REQUIRE(uncapped.admit(false, true, t0).decision == core::Shedder::Decision::serve);
}

TEST_CASE("bad shedding options are refused with the option named", "[load]")
{
    core::ShedOptions options;
    options.threshold = 1.5;
    CHECK_THROWS_WITH(core::check_shed_options(options), Catch::Contains("--overload-threshold"));
    options = {};
    options.max_rate = -1;
    CHECK_THROWS_WITH(core::check_shed_options(options), Catch::Contains("--max-rate"));
    options = {};
    options.retry_after = 0;
    CHECK_THROWS_WITH(core::check_shed_options(options), Catch::Contains("--retry-after"));
}

TEST_CASE("the weighted pick favours idle nodes but spreads", "[load]")
{
    std::vector<core::CoreLoad> loads{sample("idle", 0, 100), sample("half", 50, 100), sample("busy", 90, 100)};
    loads[2].overloaded = true;
    std::map<std::size_t, int> picks;
    constexpr int draws = 1000;
    for (int i = 0; i < draws; ++i)
        ++picks[ue::pick_weighted(loads, (i + 0.5) / draws)];
    CHECK(picks[0] > picks[1]);
    CHECK(picks[1] > picks[2]);
    CHECK(picks[1] > draws / 10); // the second-best node still gets a real share: no herding
    CHECK(picks[2] < draws / 50); // a shedding node almost none
    CHECK(ue::pick_weight(loads[0]) > ue::pick_weight(loads[1]));
}
