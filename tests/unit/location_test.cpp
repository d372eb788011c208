// The in-memory location service: bindings per AOR, their expiry and limits.
#include "core/location.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p::core;
using namespace std::chrono_literals;

namespace {

// A clock the test moves by hand.
struct FakeClock {
    Clock::time_point now = Clock::time_point(1000h);
    std::function<Clock::time_point()> function()
    {
        return [this] { return now; };
    }
};

Binding binding(const std::string& contact, Clock::time_point expires, const std::string& instance = {})
{
    Binding out;
    out.contact = contact;
    out.expires = expires;
    out.instance = instance;
    return out;
}

// The in-memory service answers at once: the result of one call.
LocationResult result_of(const std::function<void(LocationService::Done)>& call)
{
    LocationResult out;
    bool called = false;
    call([&](LocationResult result) {
        out = std::move(result);
        called = true;
    });
    REQUIRE(called);
    return out;
}

std::vector<std::string> contacts(const LocationResult& result)
{
    std::vector<std::string> out;
    for (const auto& b : result.bindings)
        out.push_back(b.contact);
    return out;
}

} // namespace

TEST_CASE("bindings are added, refreshed by device, and looked up by AOR")
{
    FakeClock clock;
    MemoryLocation location({}, clock.function());
    const std::string aor = "sip:alice@ims.test";
    auto r = result_of([&](auto done) { location.bind(aor, binding("sip:alice@10.0.0.1", clock.now + 60s), done); });
    CHECK(contacts(r) == std::vector<std::string>{"sip:alice@10.0.0.1"});
    result_of([&](auto done) { location.bind(aor, binding("sip:alice@10.0.0.2", clock.now + 60s, "<urn:uuid:1>"), done); });
    // The same instance from a new address replaces its binding.
    r = result_of([&](auto done) { location.bind(aor, binding("sip:alice@10.0.0.3", clock.now + 90s, "<urn:uuid:1>"), done); });
    CHECK(contacts(r) == std::vector<std::string>{"sip:alice@10.0.0.1", "sip:alice@10.0.0.3"});
    CHECK(location.size() == 2);
    CHECK(result_of([&](auto done) { location.lookup("sip:bob@ims.test", done); }).bindings.empty());
}

TEST_CASE("expired bindings disappear, on access and on purge")
{
    FakeClock clock;
    MemoryLocation location({}, clock.function());
    result_of([&](auto done) { location.bind("sip:alice@ims.test", binding("sip:a@1", clock.now + 10s), done); });
    result_of([&](auto done) { location.bind("sip:alice@ims.test", binding("sip:a@2", clock.now + 30s), done); });
    result_of([&](auto done) { location.bind("sip:bob@ims.test", binding("sip:b@1", clock.now + 10s), done); });
    clock.now += 10s;
    CHECK(contacts(result_of([&](auto done) { location.lookup("sip:alice@ims.test", done); })) ==
          std::vector<std::string>{"sip:a@2"});
    CHECK(location.size() == 2); // bob's is expired but not touched yet
    location.purge();
    CHECK(location.size() == 1);
    clock.now += 20s;
    location.purge();
    CHECK(location.size() == 0);
}

TEST_CASE("unbind removes one device, unbind_all every binding of the AOR")
{
    FakeClock clock;
    MemoryLocation location({}, clock.function());
    const std::string aor = "sip:alice@ims.test";
    result_of([&](auto done) { location.bind(aor, binding("sip:a@1", clock.now + 60s, "<urn:uuid:1>"), done); });
    result_of([&](auto done) { location.bind(aor, binding("sip:a@2", clock.now + 60s), done); });
    result_of([&](auto done) { location.bind(aor, binding("sip:a@3", clock.now + 60s), done); });
    // By instance, whatever the contact; or by contact.
    auto r = result_of([&](auto done) { location.unbind(aor, "sip:other@9", "<urn:uuid:1>", done); });
    CHECK(contacts(r) == std::vector<std::string>{"sip:a@2", "sip:a@3"});
    r = result_of([&](auto done) { location.unbind(aor, "sip:a@2", "", done); });
    CHECK(contacts(r) == std::vector<std::string>{"sip:a@3"});
    r = result_of([&](auto done) { location.unbind_all(aor, done); });
    CHECK(r.bindings.empty());
    CHECK(location.size() == 0);
}

TEST_CASE("memory is bounded: per AOR the first to expire makes room, beyond the total bind fails")
{
    FakeClock clock;
    MemoryLocation location({2, 3}, clock.function());
    result_of([&](auto done) { location.bind("sip:a@x", binding("sip:1@h", clock.now + 50s), done); });
    result_of([&](auto done) { location.bind("sip:a@x", binding("sip:2@h", clock.now + 10s), done); });
    auto r = result_of([&](auto done) { location.bind("sip:a@x", binding("sip:3@h", clock.now + 60s), done); });
    CHECK(contacts(r) == std::vector<std::string>{"sip:1@h", "sip:3@h"});
    result_of([&](auto done) { location.bind("sip:b@x", binding("sip:1@h", clock.now + 60s), done); });
    r = result_of([&](auto done) { location.bind("sip:c@x", binding("sip:1@h", clock.now + 60s), done); });
    CHECK_FALSE(r.ok);
    CHECK(r.error == "the location service is full");
    CHECK(location.size() == 3);
    // A full AOR still makes room for itself.
    r = result_of([&](auto done) { location.bind("sip:a@x", binding("sip:4@h", clock.now + 70s), done); });
    CHECK(r.ok);
    CHECK(location.size() == 3);
}
