// Binding lookup latency in the managed overlay against a plain OpenDHT get,
// on one simulated overlay of N nodes (simulation mode's SocketHub), in the
// same run: B bindings stored through the location service, then L rounds
// each doing, in alternating order, a DhtLocation lookup (get + CA check +
// decode) and a plain OverlayNode get (DhtRunner::get) of the same random
// key from the same node. Prints one JSON line; bench/overlay-lookup makes
// the table. Usage: overlay-lookup-bench ADDRESS BASE_PORT NODES [BINDINGS] [LOOKUPS]
#include "core/dht_location.hpp"
#include "dht/overlay_ca.hpp"
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

    const auto ca = dht::OverlayCa::create("bench CA", std::chrono::hours(24));
    auto verifier = std::make_shared<const dht::Verifier>(ca.credential().cert_ptr());
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
    dht::RecordSigner probe_signer(ca.issue("prober", std::chrono::hours(24)));
    const auto ready = overlay.wait_ready(
        [&](const std::string& key) {
            const auto now = std::time(nullptr);
            return probe_signer.sign({key, "probe", {}, static_cast<std::uint64_t>(now), now + 60, {}});
        },
        32, std::chrono::seconds(120));
    const double ready_ms = ms_since(start);

    core::DhtLocation location(front, dht::RecordSigner(ca.issue("bench", std::chrono::hours(24))), verifier,
                               [](std::function<void()> work) { work(); });
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

    LatencyHistogram lookup_ms, get_ms;
    unsigned lookup_found = 0, get_found = 0;
    double lookup_cpu = 0, get_cpu = 0;
    for (unsigned i = 0; i < lookups; ++i) {
        const std::string aor = fmt::format("sip:u{}@ims.test", random_below(bindings));
        auto do_lookup = [&] {
            const double cpu = cpu_seconds();
            const auto t = Clock::now();
            std::promise<bool> done;
            location.lookup(aor, [&done](core::LocationResult r) { done.set_value(r.ok && !r.bindings.empty()); });
            lookup_found += done.get_future().get() ? 1 : 0;
            lookup_ms.add(ms_since(t));
            lookup_cpu += cpu_seconds() - cpu;
        };
        auto do_get = [&] {
            const double cpu = cpu_seconds();
            const auto t = Clock::now();
            std::promise<bool> done;
            front.get(aor, [&done](bool ok, std::vector<dht::RawValue> values) { done.set_value(ok && !values.empty()); });
            get_found += done.get_future().get() ? 1 : 0;
            get_ms.add(ms_since(t));
            get_cpu += cpu_seconds() - cpu;
        };
        if (i % 2) {
            do_lookup();
            do_get();
        } else {
            do_get();
            do_lookup();
        }
    }
    nlohmann::json row{{"nodes", nodes},
                       {"ready", ready.ready},
                       {"ready_ms", std::lround(ready_ms)},
                       {"probes", ready.probes},
                       {"probes_found", ready.found},
                       {"bindings_stored", stored},
                       {"lookups", lookups},
                       {"lookup_found", lookup_found},
                       {"lookup_p50_ms", lookup_ms.quantile(0.5)},
                       {"lookup_p99_ms", lookup_ms.quantile(0.99)},
                       {"get_found", get_found},
                       {"get_p50_ms", get_ms.quantile(0.5)},
                       {"get_p99_ms", get_ms.quantile(0.99)},
                       {"process_cpu_ms_per_lookup", 1000 * lookup_cpu / lookups},
                       {"process_cpu_ms_per_get", 1000 * get_cpu / lookups}};
    std::cout << row.dump() << std::endl;
    return 0;
}

} // namespace
} // namespace imsp2p

int main(int argc, char** argv)
{
    return imsp2p::run(argc, argv);
}
