#include "dht/simulated_overlay.hpp"

#include "cli/outcome.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <future>

namespace imsp2p::dht {

SimulatedOverlay::SimulatedOverlay(const OverlayConfig& base, unsigned count, OverlayNode& front) : front_(front)
{
    if (!base.hub)
        throw std::invalid_argument("a simulated overlay needs a socket hub");
    if (base.port == 0 || base.port + count > 65535)
        throw Failure(Outcome::usage,
                      fmt::format("{} simulated nodes after port {} run past port 65535", count, base.port));
    const std::string front_address = fmt::format("{}:{}", front.address(), front.port());
    nodes_.reserve(count);
    for (unsigned i = 0; i < count; ++i) {
        OverlayConfig config = base;
        config.name = fmt::format("{}/{}", base.name, i + 1);
        config.port = static_cast<std::uint16_t>(base.port + 1 + i);
        config.state_dir.clear();
        config.shutdown_wait = std::chrono::milliseconds(0); // the whole overlay stops together
        config.bootstrap = {front_address};
        if (i > 0)
            config.bootstrap.push_back(fmt::format("{}:{}", config.address, config.port - 1));
        if (i > 1)
            config.bootstrap.push_back(fmt::format("{}:{}", config.address, base.port + 1 + random_below(i - 1)));
        nodes_.push_back(std::make_unique<OverlayNode>(std::move(config)));
    }
    spdlog::info("overlay {}: {} simulated nodes on {}:{}-{}", base.name, count, base.address, base.port + 1,
                 base.port + count);
}

SimulatedOverlay::~SimulatedOverlay()
{
    for (auto& node : nodes_)
        node->stop();
}

OverlayNode& SimulatedOverlay::any(std::size_t pick)
{
    return pick == 0 ? front_ : *nodes_[pick - 1];
}

Readiness SimulatedOverlay::wait_ready(const std::function<Bytes(const std::string& key)>& make_record, unsigned streak,
                                       std::chrono::seconds max_wait)
{
    const auto start = std::chrono::steady_clock::now();
    const auto give_up = start + max_wait;
    Readiness readiness;
    unsigned in_a_row = 0;
    while (in_a_row < streak && std::chrono::steady_clock::now() < give_up) {
        const auto nonce = random_bytes(8);
        const std::string key = "probe:" + to_hex(reinterpret_cast<const std::uint8_t*>(nonce.data()), nonce.size());
        const Bytes record = make_record(key);
        auto& writer = any(random_below(nodes_.size() + 1));
        auto& reader = any(random_below(nodes_.size() + 1));
        std::promise<bool> put_done;
        writer.put(key, record, 1, std::chrono::seconds(60), [&put_done](bool ok) { put_done.set_value(ok); });
        bool found = false;
        if (put_done.get_future().get()) {
            std::promise<bool> get_done;
            reader.get(key, [&get_done, &record](bool, std::vector<RawValue> values) {
                bool seen = false;
                for (const auto& value : values)
                    seen = seen || value.data == record;
                get_done.set_value(seen);
            });
            found = get_done.get_future().get();
        }
        ++readiness.probes;
        readiness.found += found ? 1 : 0;
        in_a_row = found ? in_a_row + 1 : 0;
        if (!found)
            std::this_thread::sleep_for(std::chrono::milliseconds(200)); // let the routing tables fill
    }
    readiness.ready = in_a_row >= streak;
    readiness.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return readiness;
}

} // namespace imsp2p::dht
