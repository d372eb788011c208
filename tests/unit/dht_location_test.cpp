// The location service in the overlay: bindings written on one core node are
// read on another, refreshed, removed, bounded; forged ones never surface.
#include "core/binding_record.hpp"
#include "core/dht_location.hpp"
#include "overlay_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace imsp2p;
using namespace std::chrono_literals;
using core::Binding;
using core::Clock;
using core::LocationResult;

namespace {

Binding binding(const std::string& contact, Clock::duration lifetime, const std::string& instance = {})
{
    Binding out;
    out.contact = contact;
    out.expires = std::chrono::time_point_cast<std::chrono::milliseconds>(Clock::now() + lifetime);
    out.instance = instance;
    out.path = {"<sip:pcscf.ims.test;lr>"};
    out.call_id = "call-1";
    out.cseq = 7;
    out.received = "udp:127.0.50.200:5060";
    return out;
}

std::vector<std::string> contacts(const LocationResult& result)
{
    std::vector<std::string> out;
    for (const auto& b : result.bindings)
        out.push_back(b.contact);
    std::sort(out.begin(), out.end());
    return out;
}

// A core node's location service, answering on the test's thread.
struct Core {
    Core(dht::OverlayNode& node, dht::RecordSigner signer, std::shared_ptr<const dht::Verifier> verifier,
         std::size_t per_aor = 10)
        : location(node, std::move(signer), std::move(verifier), [this](auto work) { loop.post(std::move(work)); },
                   config(per_aor))
    {
    }
    core::DhtLocationConfig config(std::size_t per_aor)
    {
        core::DhtLocationConfig c;
        c.bindings_per_aor = per_aor;
        c.on_dropped = [this](const core::DroppedValue& value) { dropped.push_back(value); };
        return c;
    }

    // One call's answer; done must come once, on this thread.
    LocationResult call(const std::function<void(core::LocationService::Done)>& operation)
    {
        int calls = 0;
        LocationResult out;
        const auto thread = std::this_thread::get_id();
        operation([&](LocationResult result) {
            CHECK(std::this_thread::get_id() == thread);
            ++calls;
            out = std::move(result);
        });
        REQUIRE(loop.run_until([&] { return calls > 0; }));
        loop.run_until([] { return false; }, 50ms); // a second answer would show here
        CHECK(calls == 1);
        return out;
    }
    LocationResult lookup(const std::string& aor)
    {
        return call([&](auto done) { location.lookup(aor, done); });
    }
    // Looks up until `pred` holds (a bounded number of times): the overlay is
    // eventually consistent.
    LocationResult lookup_until(const std::string& aor, const std::function<bool(const LocationResult&)>& pred)
    {
        LocationResult result;
        for (int attempt = 0; attempt < 10; ++attempt) {
            result = lookup(aor);
            if (result.ok && pred(result))
                break;
            std::this_thread::sleep_for(200ms);
        }
        return result;
    }

    test::TestLoop loop;
    std::vector<core::DroppedValue> dropped;
    core::DhtLocation location;
};

using Names = std::vector<std::string>;

} // namespace

TEST_CASE("bindings made on one core node are read, refreshed and removed through another", "[dht]")
{
    const test::TestPki pki;
    test::TestOverlay overlay(4, 30, 0x1a5e0010, pki.verifier, pki.signer("probe"));
    REQUIRE(overlay.wait_ready());
    Core a(overlay.node(0), pki.signer("core-a"), pki.verifier);
    Core b(overlay.node(3), pki.signer("core-b"), pki.verifier);
    const std::string aor = "sip:alice@ims.test";

    auto r = a.call([&](auto done) { a.location.bind(aor, binding("sip:alice@10.0.0.1", 60s), done); });
    REQUIRE(r.ok);
    CHECK(contacts(r) == Names{"sip:alice@10.0.0.1"});
    r = b.lookup_until(aor, [](const auto& r) { return r.bindings.size() == 1; });
    REQUIRE(contacts(r) == Names{"sip:alice@10.0.0.1"});
    const auto& seen = r.bindings.front();
    const auto sent = binding("sip:alice@10.0.0.1", 60s);
    CHECK(seen.path == sent.path);
    CHECK(seen.call_id == "call-1");
    CHECK(seen.cseq == 7);
    CHECK(seen.received == sent.received);

    // A second device, bound through the other node.
    r = b.call([&](auto done) { b.location.bind(aor, binding("sip:alice@10.0.0.2", 60s, "<urn:uuid:2>"), done); });
    REQUIRE(r.ok);
    CHECK(contacts(r) == Names{"sip:alice@10.0.0.1", "sip:alice@10.0.0.2"});

    // A refresh replaces the device's binding: still two, the new expiry.
    auto refreshed = binding("sip:alice@10.0.0.1", 120s);
    refreshed.cseq = 8;
    REQUIRE(a.call([&](auto done) { a.location.bind(aor, refreshed, done); }).ok);
    r = b.lookup_until(aor, [&](const auto& r) {
        return r.bindings.size() == 2 && std::any_of(r.bindings.begin(), r.bindings.end(), [&](const Binding& x) {
                   return x.cseq == 8 && x.expires == refreshed.expires;
               });
    });
    CHECK(r.bindings.size() == 2);
    CHECK(r.bindings.back().cseq == 8); // sorted by expiry: the refreshed one last

    // The same instance from a new contact replaces its binding.
    REQUIRE(a.call([&](auto done) { a.location.bind(aor, binding("sip:alice@10.0.0.3", 90s, "<urn:uuid:2>"), done); }).ok);
    r = b.lookup_until(aor, [](const auto& r) { return contacts(r) == Names{"sip:alice@10.0.0.1", "sip:alice@10.0.0.3"}; });
    CHECK(contacts(r) == Names{"sip:alice@10.0.0.1", "sip:alice@10.0.0.3"});

    // Removal through the other node hides it from everyone.
    r = b.call([&](auto done) { b.location.unbind(aor, "sip:alice@10.0.0.1", "", done); });
    REQUIRE(r.ok);
    CHECK(contacts(r) == Names{"sip:alice@10.0.0.3"});
    r = a.lookup_until(aor, [](const auto& r) { return r.bindings.size() == 1; });
    CHECK(contacts(r) == Names{"sip:alice@10.0.0.3"});

    r = a.call([&](auto done) { a.location.unbind_all(aor, done); });
    REQUIRE(r.ok);
    CHECK(r.bindings.empty());
    CHECK(b.lookup_until(aor, [](const auto& r) { return r.bindings.empty(); }).bindings.empty());
    CHECK(a.location.dropped_forged() == 0);
    CHECK(b.location.dropped_forged() == 0);
    CHECK(b.location.dropped_malformed() == 0);
}

TEST_CASE("lookups are answered from memory and follow changes the storing nodes push", "[dht]")
{
    const test::TestPki pki;
    test::TestOverlay overlay(4, 30, 0x1a5e0012, pki.verifier, pki.signer("probe"));
    REQUIRE(overlay.wait_ready());
    Core a(overlay.node(0), pki.signer("core-a"), pki.verifier);
    Core b(overlay.node(3), pki.signer("core-b"), pki.verifier);
    const std::string aor = "sip:carol@ims.test";

    REQUIRE(a.call([&](auto done) { a.location.bind(aor, binding("sip:carol@10.0.0.1", 60s), done); }).ok);
    auto r = b.lookup_until(aor, [](const auto& r) { return r.bindings.size() == 1; });
    REQUIRE(contacts(r) == Names{"sip:carol@10.0.0.1"});
    const auto hits = b.location.cache_hits();
    CHECK(contacts(b.lookup(aor)) == Names{"sip:carol@10.0.0.1"});
    CHECK(b.location.cache_hits() == hits + 1); // no overlay read this time

    // Another node moves carol's device: the push reaches b's cache.
    REQUIRE(a.call([&](auto done) { a.location.bind(aor, binding("sip:carol@10.0.0.9", 60s), done); }).ok);
    REQUIRE(a.call([&](auto done) { a.location.unbind(aor, "sip:carol@10.0.0.1", "", done); }).ok);
    r = b.lookup_until(aor, [](const auto& r) { return contacts(r) == Names{"sip:carol@10.0.0.9"}; });
    CHECK(contacts(r) == Names{"sip:carol@10.0.0.9"});
    const auto later = b.location.cache_hits();
    CHECK(contacts(b.lookup(aor)) == Names{"sip:carol@10.0.0.9"});
    CHECK(b.location.cache_hits() == later + 1); // the change is in memory now

    // A node's own writes are in its cache before the bind answers.
    REQUIRE(b.call([&](auto done) { b.location.bind(aor, binding("sip:carol@10.0.0.7", 60s, "<urn:uuid:7>"), done); }).ok);
    CHECK(contacts(b.lookup(aor)) == Names{"sip:carol@10.0.0.7", "sip:carol@10.0.0.9"});
}

TEST_CASE("an AOR holds a bounded number of bindings in the overlay", "[dht]")
{
    const test::TestPki pki;
    test::TestOverlay overlay(3, 35, 0x1a5e0011, pki.verifier, pki.signer("probe"));
    REQUIRE(overlay.wait_ready());
    Core a(overlay.node(0), pki.signer("core-a"), pki.verifier, 3);
    Core b(overlay.node(2), pki.signer("core-b"), pki.verifier, 3);
    const std::string aor = "sip:bob@ims.test";
    for (int i = 1; i <= 4; ++i) {
        // Each waits for the previous one to be readable: a bind reads before it writes.
        REQUIRE(a.call([&](auto done) { a.location.bind(aor, binding(fmt::format("sip:bob@10.0.0.{}", i), (60 + i) * 1s), done); }).ok);
        a.lookup_until(aor, [&](const auto& r) { return r.bindings.size() == static_cast<std::size_t>(std::min(i, 3)); });
    }
    // The binding expiring first made room.
    const auto r = b.lookup_until(aor, [](const auto& r) { return r.bindings.size() == 3; });
    CHECK(contacts(r) == Names{"sip:bob@10.0.0.2", "sip:bob@10.0.0.3", "sip:bob@10.0.0.4"});
}

TEST_CASE("a binding forged by a node outside the CA is never returned, and is counted", "[dht]")
{
    const test::TestPki pki;
    const test::TestPki rogue; // a self-made CA, with its own overlay key
    test::TestOverlay overlay(3, 40, 0x1a5e0012, pki.verifier, pki.signer("probe"));
    // A node that stores whatever comes (as a plain dhtnode would): readers
    // must check what they read, not trust the store policy.
    auto open_config = overlay.config(43);
    open_config.verifier = nullptr;
    overlay.add(open_config);
    // The forger runs a node of the overlay that trusts its own CA.
    auto forger_config = overlay.config(44);
    forger_config.verifier = rogue.verifier;
    auto& forger_node = overlay.add(forger_config);
    REQUIRE(overlay.wait_ready());
    Core a(overlay.node(0), pki.signer("core-a"), pki.verifier);
    Core b(overlay.node(1), pki.signer("core-b"), pki.verifier);
    Core c(overlay.node(3), pki.signer("core-c"), pki.verifier);
    Core forger(forger_node, rogue.signer("core-a"), rogue.verifier); // even borrows a real node's name
    const std::string aor = "sip:alice@ims.test";

    REQUIRE(a.call([&](auto done) { a.location.bind(aor, binding("sip:alice@10.0.0.1", 60s), done); }).ok);
    // A hijack of alice's slot (same device: same value id, newer) and a device of its own.
    REQUIRE(forger.call([&](auto done) { forger.location.bind(aor, binding("sip:alice@10.0.0.1", 600s), done); }).ok);
    REQUIRE(forger.call([&](auto done) { forger.location.bind(aor, binding("sip:mallory@10.6.6.6", 600s), done); }).ok);
    CHECK(contacts(forger.lookup(aor)) == Names{"sip:alice@10.0.0.1", "sip:mallory@10.6.6.6"}); // it believes itself

    // Only the genuine binding, from every reader; the one over the open node
    // sees the forgeries (its own storage holds them) and drops them.
    const auto genuine_only = [&](Core& reader) {
        const auto r = reader.lookup(aor);
        REQUIRE(r.ok);
        REQUIRE(contacts(r) == Names{"sip:alice@10.0.0.1"});
        CHECK(r.bindings.front().expires < Clock::now() + 61s); // not the hijack's 600 s
    };
    for (int attempt = 0; attempt < 20 && c.location.dropped_forged() < 2; ++attempt) {
        genuine_only(c);
        genuine_only(b);
        if (c.location.dropped_forged() < 2)
            std::this_thread::sleep_for(200ms);
    }
    genuine_only(a);
    CHECK(c.location.dropped_forged() >= 2); // the hijack and mallory's
    REQUIRE_FALSE(c.dropped.empty());
    CHECK(c.dropped.front().verdict == "unknown-overlay-key");
    CHECK(c.dropped.front().aor == aor);
    CHECK(c.dropped.front().writer == "core-a");
    CHECK(a.location.dropped_malformed() + b.location.dropped_malformed() + c.location.dropped_malformed() == 0);
}

TEST_CASE("the location service answers ok=false when the overlay cannot", "[dht]")
{
    const test::TestPki pki;
    test::TestOverlay lone(1, 45, 0x1a5e0013, pki.verifier); // no peer: every get and put fails
    Core a(lone.node(0), pki.signer("core-a"), pki.verifier);
    auto r = a.call([&](auto done) { a.location.bind("sip:alice@ims.test", binding("sip:alice@10.0.0.1", 60s), done); });
    CHECK_FALSE(r.ok);
    CHECK_THAT(r.error, Catch::Contains("sip:alice@ims.test"));
    CHECK_FALSE(a.lookup("sip:alice@ims.test").ok);
    lone.node(0).stop();
    CHECK_FALSE(a.call([&](auto done) { a.location.unbind_all("sip:alice@ims.test", done); }).ok);
}

TEST_CASE("binding payloads and value ids", "[dht]")
{
    const auto b = binding("sip:alice@10.0.0.1", 60s, "<urn:uuid:1>");
    const auto decoded = core::decode_binding(core::encode_binding(b, "core-a"));
    REQUIRE(decoded);
    CHECK_FALSE(decoded->removed);
    CHECK(decoded->node == "core-a");
    CHECK(decoded->binding.contact == b.contact);
    CHECK(decoded->binding.expires == b.expires);
    CHECK(decoded->binding.instance == b.instance);
    CHECK(decoded->binding.path == b.path);
    CHECK(core::decode_binding(core::encode_removal("core-b"))->removed);
    CHECK_FALSE(core::decode_binding(Bytes{'[', ']'}));
    CHECK_FALSE(core::decode_binding(Bytes{'{', '"', 'c', 'o', 'n', 't', 'a', 'c', 't', '"', ':', '1', '}'}));
    // The instance names the device when there is one; the AOR is part of the id.
    const std::string aor = "sip:alice@ims.test";
    CHECK(core::binding_value_id(aor, "sip:a@1", "<urn:uuid:1>") == core::binding_value_id(aor, "sip:a@2", "<urn:uuid:1>"));
    CHECK(core::binding_value_id(aor, "sip:a@1", "") != core::binding_value_id(aor, "sip:a@2", ""));
    CHECK(core::binding_value_id(aor, "sip:a@1", "") != core::binding_value_id("sip:bob@ims.test", "sip:a@1", ""));
}

TEST_CASE("a binding written on this host ends where the monotonic clock put it, whatever the wall clock steps", "[dht]")
{
    const auto b = binding("sip:alice@10.0.0.1", 60s);
    const core::HostClock writer{"0123456789abcdef", 1'000'000};
    const auto decoded = core::decode_binding(core::encode_binding(b, "core-a", writer));
    REQUIRE(decoded);
    CHECK(decoded->written_on.host == writer.host);
    CHECK(decoded->written_on.offset_ms == writer.offset_ms);
    const auto end = [&](std::string host, std::int64_t offset_ms) {
        return core::binding_end_here(decoded->binding, decoded->written_on, {std::move(host), offset_ms});
    };
    CHECK(end(writer.host, writer.offset_ms) == b.expires);                       // no step
    CHECK(end(writer.host, writer.offset_ms - 300'000) == b.expires - 300s);      // stepped back 300 s: ends as due
    CHECK(end(writer.host, writer.offset_ms + 300'000) == b.expires);             // stepped forward: its time of day
    CHECK(end("fedcba9876543210", writer.offset_ms - 300'000) == b.expires);      // another host: its time of day
    CHECK(end("", writer.offset_ms - 300'000) == b.expires);                      // this host unknown
    // Offsets of another era end it, without overflowing.
    const core::HostClock far{"0123456789abcdef", std::numeric_limits<std::int64_t>::max()};
    CHECK(core::binding_end_here(b, far, {far.host, std::numeric_limits<std::int64_t>::min()}) == core::Clock::time_point{});
    // A writer that does not know its host says nothing of its clocks.
    const auto silent = core::decode_binding(core::encode_binding(b, "core-a", {}));
    REQUIRE(silent);
    CHECK(silent->written_on.host.empty());
    CHECK(core::binding_end_here(b, silent->written_on, core::host_clock_now()) == b.expires);
}
