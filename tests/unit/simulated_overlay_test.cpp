// Simulation mode's building blocks: many OverlayNodes on one SocketHub.
// Inside namespace imsp2p: the hub's header brings OpenDHT's ::dht along.
#include "dht/simulated_overlay.hpp"
#include "dht/socket_hub.hpp"
#include "overlay_support.hpp"

#include <catch2/catch.hpp>

#include <thread>

namespace imsp2p {
namespace {

using namespace std::chrono_literals;

bool found_eventually(dht::OverlayNode& node, const std::string& key, const Bytes& data)
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        const auto values = test::get_and_wait(node, key);
        if (values && std::any_of(values->begin(), values->end(), [&](const auto& v) { return v.data == data; }))
            return true;
        std::this_thread::sleep_for(200ms);
    }
    return false;
}

TEST_CASE("a simulated overlay of 40 nodes on one socket hub gets ready and serves lookups", "[dht]")
{
    dht::OverlayConfig config;
    config.name = "sim";
    config.address = "127.0.50.20";
    config.port = 24000; // the simulated nodes take 24001-24039
    config.network_id = 0x1a5e0010;
    config.hub = dht::SocketHub::create();
    auto hub = config.hub;
    {
        dht::OverlayNode front(config);
        dht::SimulatedOverlay overlay(config, 39, front);
        CHECK(overlay.size() == 39);
        CHECK(hub->sockets() == 40);
        CHECK(overlay.node(38).port() == 24039);
        // No verifier here: any bytes make a probe record.
        const auto ready = overlay.wait_ready([](const std::string& key) { return Bytes(key.begin(), key.end()); }, 16, 60s);
        INFO("probes " << ready.probes << ", found " << ready.found);
        REQUIRE(ready.ready);
        CHECK(ready.found >= 16);
        const Bytes data{'h', 'u', 'b'};
        REQUIRE(test::put_and_wait(overlay.node(5), "sip:hub@ims.test", data, 3) == true);
        CHECK(found_eventually(overlay.node(30), "sip:hub@ims.test", data));
        CHECK(found_eventually(front, "sip:hub@ims.test", data));
        front.stop();
    }
    CHECK(hub->sockets() == 0); // every node's socket left the hub when it stopped
}

TEST_CASE("a simulated overlay refuses ports past 65535", "[dht]")
{
    dht::OverlayConfig config;
    config.name = "sim";
    config.address = "127.0.50.21";
    config.port = 65530;
    config.network_id = 0x1a5e0011;
    config.hub = dht::SocketHub::create();
    dht::OverlayNode front(config);
    CHECK_THROWS_WITH(dht::SimulatedOverlay(config, 10, front), Catch::Contains("run past port 65535"));
}

} // namespace
} // namespace imsp2p
