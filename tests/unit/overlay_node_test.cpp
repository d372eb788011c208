// OverlayNodes on loopback: values travel between nodes, the node id and the
// node cache persist, a corrupt cache is survived, forged records are not stored.
#include "cli/outcome.hpp"
#include "dht/state_files.hpp"
#include "overlay_support.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

using namespace imsp2p;
using namespace std::chrono_literals;

namespace {

bool holds(const std::optional<std::vector<dht::RawValue>>& values, std::uint64_t id, const Bytes& data)
{
    return values && std::any_of(values->begin(), values->end(), [&](const auto& v) { return v.id == id && v.data == data; });
}

// Gets until `pred` holds for the values, a bounded number of times.
bool eventually(dht::OverlayNode& node, const std::string& key,
                const std::function<bool(const std::vector<dht::RawValue>&)>& pred)
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        const auto values = test::get_and_wait(node, key);
        if (values && pred(*values))
            return true;
        std::this_thread::sleep_for(200ms);
    }
    return false;
}

} // namespace

TEST_CASE("a value put on one overlay node is found from another, as raw bytes", "[dht]")
{
    test::TestOverlay overlay(4, 1, 0x1a5e0001, nullptr);
    REQUIRE(overlay.wait_ready());
    const Bytes data{0x00, 0xff, 'b', 'i', 'n', 0x00}; // not UTF-8, with NULs: stored as given
    REQUIRE(test::put_and_wait(overlay.node(0), "sip:alice@ims.test", data, 7) == true);
    CHECK(eventually(overlay.node(3), "sip:alice@ims.test", [&](const auto& v) {
        return holds(v, 7, data) && v.front().type == dht::OverlayNode::record_type;
    }));
    // The same value id from another node replaces it (no verifier: any edit is allowed).
    const Bytes replacement{'n', 'e', 'w'};
    REQUIRE(test::put_and_wait(overlay.node(2), "sip:alice@ims.test", replacement, 7) == true);
    CHECK(eventually(overlay.node(1), "sip:alice@ims.test", [&](const auto& v) { return holds(v, 7, replacement); }));

    const auto stats = overlay.node(3).stats();
    CHECK(stats.good_nodes + stats.dubious_nodes >= 1);
    CHECK(stats.node_id.size() == 40);
    CHECK(stats.port == overlay.node(3).port());
    CHECK(stats.port != 0);
}

TEST_CASE("overlay node configuration errors", "[dht]")
{
    dht::OverlayConfig config;
    config.address = "127.0.50.5";
    config.network_id = 0x1a5e0002;
    auto outcome_of = [](dht::OverlayConfig c) {
        try {
            dht::OverlayNode node(std::move(c));
        } catch (const Failure& failure) {
            return failure.outcome();
        }
        return Outcome::ok;
    };
    CHECK(outcome_of(config) == Outcome::ok);
    auto bad = config;
    bad.address = "localhost";
    CHECK(outcome_of(bad) == Outcome::usage);
    bad = config;
    bad.network_id = 0;
    CHECK(outcome_of(bad) == Outcome::usage);
    bad = config;
    bad.bootstrap = {"127.0.50.1"};
    CHECK(outcome_of(bad) == Outcome::usage);
    bad.bootstrap = {"127.0.50.1:99999"};
    CHECK(outcome_of(bad) == Outcome::usage);
    bad = config;
    bad.address = "192.0.2.1"; // TEST-NET-1: not an address of this host
    CHECK(outcome_of(bad) == Outcome::local);
    // A stopped node answers at once.
    dht::OverlayNode node(config);
    node.stop();
    std::optional<bool> put;
    node.put("k", Bytes{1}, 1, 10s, [&](bool ok) { put = ok; });
    CHECK(put == false);
}

TEST_CASE("an overlay node keeps its node id and node cache across a restart", "[dht]")
{
    test::TempDir state;
    test::TestOverlay overlay(2, 10, 0x1a5e0003, nullptr);
    auto config = overlay.config(12);
    config.state_dir = state.path();
    config.bootstrap = overlay.bootstrap_list();
    std::string id;
    {
        dht::OverlayNode node(config);
        id = node.node_id();
        config.port = node.port(); // back on the same port, as a configured node would be
        REQUIRE(test::put_and_wait(overlay.node(0), "sip:carol@ims.test", Bytes{'c'}, 2) == true);
        REQUIRE(eventually(node, "sip:carol@ims.test", [](const auto& v) { return holds(v, 2, Bytes{'c'}); }));
    } // stop() writes the cache
    CHECK(dht::read_file(state.path() / "node-id") == id + "\n");
    const auto cache = dht::read_file(state.path() / "nodes");
    CHECK_THAT(cache, Catch::StartsWith("# imsp2p overlay node cache v1\n") && Catch::Contains(" 127.0.50.1"));

    // Back without configured bootstrap nodes: the same id, joined through the cache.
    config.bootstrap.clear();
    dht::OverlayNode node(config);
    CHECK(node.node_id() == id);
    REQUIRE(test::put_and_wait(overlay.node(0), "sip:bob@ims.test", Bytes{'b'}, 3) == true);
    CHECK(eventually(node, "sip:bob@ims.test", [](const auto& v) { return holds(v, 3, Bytes{'b'}); }));
}

TEST_CASE("a corrupt node cache or node id is survived", "[dht]")
{
    test::TempDir state;
    test::TestOverlay overlay(1, 15, 0x1a5e0004, nullptr);
    dht::write_file(state.path() / "nodes", std::string("\x00\xff garbage\n", 11), 0644);
    dht::write_file(state.path() / "node-id", "not an id\n", 0644);
    auto config = overlay.config(16);
    config.state_dir = state.path();
    config.bootstrap = overlay.bootstrap_list();
    {
        dht::OverlayNode node(config);
        CHECK(node.node_id().size() == 40);
        REQUIRE(test::put_and_wait(node, "probe", Bytes{1}, 1) == true);
    }
    // Both were replaced by good ones.
    CHECK(dht::read_file(state.path() / "node-id").size() == 41);
    CHECK_THAT(dht::read_file(state.path() / "nodes"), Catch::Contains("127.0.50.15:"));
    // A truncated cache line.
    dht::write_file(state.path() / "nodes", "# imsp2p overlay node cache v1\n0123 127.0.50.15\n", 0644);
    dht::OverlayNode node(config);
    CHECK(node.port() != 0);
}

TEST_CASE("our overlay nodes store only records under the overlay key, and only newer ones", "[dht]")
{
    const test::TestPki pki;
    const test::TestPki rogue;
    const auto honest = pki.signer("core1");
    test::TestOverlay overlay(3, 20, 0x1a5e0005, pki.verifier, honest);
    REQUIRE(overlay.wait_ready());
    // A node that stores anything (like a plain dhtnode) and writes for others.
    auto open_config = overlay.config(23);
    open_config.verifier = nullptr;
    auto& open = overlay.add(open_config);
    REQUIRE(overlay.wait_ready());

    const auto now = std::time(nullptr);
    const std::string key = "sip:carol@ims.test";
    const auto stored = [&] {
        std::size_t n = 0;
        for (std::size_t i = 0; i < 3; ++i)
            n += overlay.node(i).stats().stored_values;
        return n;
    };
    const auto before = stored();
    REQUIRE(test::put_and_wait(open, key, rogue.signer("core1").sign({key, "binding", Bytes{'x'}, 5, now + 600, {}}), 9) == true);
    REQUIRE(test::put_and_wait(open, key, honest.sign({"sip:dave@ims.test", "binding", Bytes{'r'}, 5, now + 600, {}}), 10) == true);
    CHECK(stored() == before); // forged, and replayed under another key
    REQUIRE(test::put_and_wait(open, key, honest.sign({key, "binding", Bytes{'n', 'e', 'w'}, 20, now + 600, {}}), 11) == true);
    CHECK(stored() >= before + 2); // a good record reached at least two honest nodes

    // An older record in the same slot never replaces the newer one.
    const auto older = honest.sign({key, "binding", Bytes{'o', 'l', 'd'}, 10, now + 600, {}});
    REQUIRE(test::put_and_wait(open, key, older, 11) == true);
    open.stop(); // its own copy (put locally, no policy) leaves with it
    const auto values = test::get_and_wait(overlay.node(0), key);
    REQUIRE(values);
    CHECK_FALSE(holds(values, 11, older));
    CHECK(std::any_of(values->begin(), values->end(), [&](const auto& v) {
        return v.id == 11 && pki.verifier->check(v.data, key, now).record.seq == 20;
    }));
}

TEST_CASE("an overlay operation nobody answers fails once, at its deadline or at stop", "[dht]")
{
    // A peer that never answers: a bound UDP socket nobody reads, known to the
    // node through its cache (so it is in the routing table, id and all).
    const int silent = ::socket(AF_INET, SOCK_DGRAM, 0);
    REQUIRE(silent >= 0);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, "127.0.50.8", &sin.sin_addr);
    socklen_t size = sizeof sin;
    REQUIRE(::bind(silent, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    REQUIRE(::getsockname(silent, reinterpret_cast<sockaddr*>(&sin), &size) == 0);
    test::TempDir state;
    dht::write_file(state.path() / "nodes",
                    fmt::format("# imsp2p overlay node cache v1\n{} 127.0.50.8:{}\n", std::string(40, 'a'), ntohs(sin.sin_port)),
                    0644);
    dht::OverlayConfig config;
    config.address = "127.0.50.7";
    config.network_id = 0x1a5e0006;
    config.state_dir = state.path();
    config.op_timeout = 300ms;
    config.shutdown_wait = 300ms;
    dht::OverlayNode node(config);

    std::atomic<int> gets{0}, puts{0};
    std::atomic<bool> get_ok{true}, put_ok{true};
    const auto start = std::chrono::steady_clock::now();
    node.get("sip:alice@ims.test", [&](bool ok, std::vector<dht::RawValue>) {
        get_ok = ok;
        ++gets;
    });
    for (int i = 0; i < 300 && gets == 0; ++i)
        std::this_thread::sleep_for(10ms);
    const auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(gets == 1);
    CHECK_FALSE(get_ok);
    CHECK(elapsed >= 250ms); // the deadline answered, not OpenDHT
    CHECK(elapsed < 2s);

    // Open when the node begins to stop: answered by the time stop() returns.
    node.put("sip:alice@ims.test", Bytes{1}, 1, 10s, [&](bool ok) {
        put_ok = ok;
        ++puts;
    });
    node.stop();
    CHECK(puts == 1);
    CHECK_FALSE(put_ok);
    std::this_thread::sleep_for(400ms); // a late second answer would show here
    CHECK(gets == 1);
    CHECK(puts == 1);
    ::close(silent);
}
