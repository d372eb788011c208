// Binding lookup latency in the managed overlay against a plain OpenDHT get,
// on one simulated overlay of N nodes (simulation mode's SocketHub), in the
// same run: B bindings stored through the location service, then L rounds
// each doing, in alternating order, a DhtLocation lookup that reads the
// overlay (get + CA check + decode) and a plain OverlayNode get
// (DhtRunner::get) of the same random key from the same node, then the same
// lookup through a location service with its lookup cache. Prints one JSON line; bench/overlay-lookup makes
// the table. Usage: overlay-lookup-bench ADDRESS BASE_PORT NODES [BINDINGS] [LOOKUPS]
#include "core/dht_location.hpp"
#include "dht/overlay_key.hpp"
#include "dht/simulated_overlay.hpp"
#include "dht/socket_hub.hpp"
#include "util/histogram.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <future>
#include <iostream>

namespace imsp2p {
namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double ms_since(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int run(int argc, char** argv)
{
    if (argc < 4) {
        std::cerr << "usage: overlay-lookup-bench ADDRESS BASE_PORT NODES [BINDINGS] [LOOKUPS]\n";
        return 2;
    }
    spdlog::set_level(spdlog::level::warn);
    const std::string address = argv[1];
    const auto port = static_cast<std::uint16_t>(std::stoul(argv[2]));
    const unsigned nodes = std::stoul(argv[3]);
    const unsigned bindings = argc > 4 ? std::stoul(argv[4]) : 200;
    const unsigned lookups = argc > 5 ? std::stoul(argv[5]) : 500;

    const auto key = dht::OverlayKey::generate();
    auto verifier = std::make_shared<const dht::Verifier>(key);
    dht::OverlayConfig config;
    config.name = "bench";
    config.address = address;
    config.port = port;
    config.network_id = 0xbe0000 + nodes;
    config.verifier = verifier;
    config.hub = dht::SocketHub::create();
    dht::OverlayNode front(config);
    const auto start = Clock::now();
    dht::SimulatedOverlay overlay(config, nodes - 1, front);
    dht::RecordSigner probe_signer(key, "prober");
    const auto ready = overlay.wait_ready(
        [&](const std::string& key) {
            const auto now = std::time(nullptr);
            return probe_signer.sign({key, "probe", {}, static_cast<std::uint64_t>(now), now + 60, {}});
        },
        32, std::chrono::seconds(120));
    const double ready_ms = ms_since(start);

    // Two location services on the same node: one reads the overlay for
    // every lookup, the other answers from its cache once it has read.
    auto location_config = [](std::size_t cache) {
        core::DhtLocationConfig config;
        config.lookup_cache = cache;
        return config;
    };
    auto inline_post = [](std::function<void()> work) { work(); };
    core::DhtLocation location(front, dht::RecordSigner(key, "bench"), verifier, inline_post,
                               location_config(0));
    core::DhtLocation cached(front, dht::RecordSigner(key, "bench-cached"), verifier,
                             inline_post, location_config(4096));
    unsigned stored = 0;
    for (unsigned i = 0; i < bindings; ++i) {
        core::Binding binding;
        binding.contact = fmt::format("sip:u{}@{}:5070", i, address);
        binding.expires = core::Clock::now() + std::chrono::minutes(10);
        binding.call_id = fmt::format("bench-{}", i);
        binding.cseq = 1;
        binding.received = fmt::format("udp:{}:5070", address);
        std::promise<bool> done;
        location.bind(fmt::format("sip:u{}@ims.test", i), binding, [&done](core::LocationResult r) { done.set_value(r.ok); });
        stored += done.get_future().get() ? 1 : 0;
    }

    struct Measured {
        LatencyHistogram ms;
        unsigned found = 0;
        double cpu = 0;
    };
    Measured get, lookup, hit;
    // Times one operation; `start(done)` must call done(found) exactly once.
    auto measure = [](Measured& m, const std::function<void(std::function<void(bool)>)>& start) {
        const double cpu = cpu_seconds();
        const auto t = Clock::now();
        std::promise<bool> done;
        start([&done](bool found) { done.set_value(found); });
        m.found += done.get_future().get() ? 1 : 0;
        m.ms.add(ms_since(t));
        m.cpu += cpu_seconds() - cpu;
    };
    for (unsigned i = 0; i < lookups; ++i) {
        const std::string aor = fmt::format("sip:u{}@ims.test", random_below(bindings));
        auto plain = [&] {
            measure(get, [&](auto done) {
                front.get(aor, [done](bool ok, std::vector<dht::RawValue> values) { done(ok && !values.empty()); });
            });
        };
        auto through = [&](Measured& m, core::DhtLocation& service) {
            measure(m, [&](auto done) {
                service.lookup(aor, [done](core::LocationResult r) { done(r.ok && !r.bindings.empty()); });
            });
        };
        if (i % 2) {
            through(lookup, location);
            plain();
        } else {
            plain();
            through(lookup, location);
        }
        through(hit, cached);
    }
    nlohmann::json row{{"nodes", nodes},
                       {"ready", ready.ready},
                       {"ready_ms", std::lround(ready_ms)},
                       {"probes", ready.probes},
                       {"probes_found", ready.found},
                       {"bindings_stored", stored},
                       {"lookups", lookups},
                       {"cache_hits", cached.cache_hits()}};
    for (const auto& [name, m] : {std::pair<const char*, const Measured*>{"get", &get}, {"lookup", &lookup}, {"cached", &hit}}) {
        row[fmt::format("{}_found", name)] = m->found;
        row[fmt::format("{}_p50_ms", name)] = m->ms.quantile(0.5);
        row[fmt::format("{}_p99_ms", name)] = m->ms.quantile(0.99);
        row[fmt::format("{}_cpu_ms", name)] = 1000 * m->cpu / lookups;
    }
    std::cout << row.dump() << std::endl;
    return 0;
}

} // namespace
} // namespace imsp2p

int main(int argc, char** argv)
{
    return imsp2p::run(argc, argv);
}
