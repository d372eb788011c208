#include "overlay_support.hpp"

#include <fmt/format.h>

#include <future>
#include <thread>

namespace imsp2p::test {

using namespace std::chrono_literals;

TestPki::TestPki() : key(dht::OverlayKey::generate()), verifier(std::make_shared<dht::Verifier>(key))
{
}

dht::RecordSigner TestPki::signer(const std::string& node) const
{
    return dht::RecordSigner(key, node);
}

TestOverlay::TestOverlay(std::size_t count, int first_host, std::uint32_t network, std::shared_ptr<const dht::Verifier> verifier,
                         std::optional<dht::RecordSigner> signer)
    : network_(network), verifier_(std::move(verifier)), signer_(std::move(signer))
{
    for (std::size_t i = 0; i < count; ++i)
        add(config(first_host + static_cast<int>(i)));
}

dht::OverlayConfig TestOverlay::config(int host) const
{
    dht::OverlayConfig config;
    config.name = fmt::format("node{}", host);
    config.address = fmt::format("127.0.50.{}", host);
    config.network_id = network_;
    config.verifier = verifier_;
    config.shutdown_wait = std::chrono::milliseconds(300); // the last node to stop has no one to hand values to
    return config;
}

std::vector<std::string> TestOverlay::bootstrap_list() const
{
    std::vector<std::string> out;
    for (const auto& node : nodes_)
        out.push_back(fmt::format("{}:{}", node->address(), node->port()));
    return out;
}

dht::OverlayNode& TestOverlay::add(dht::OverlayConfig config)
{
    for (const auto& entry : bootstrap_list())
        config.bootstrap.push_back(entry);
    auto node = std::make_unique<dht::OverlayNode>(std::move(config));
    // Both ways: each earlier node pings the new one, so it is a node they
    // have heard answer (and search through), not only one that wrote to them.
    const auto address = fmt::format("{}:{}", node->address(), node->port());
    for (const auto& earlier : nodes_)
        earlier->bootstrap(address);
    nodes_.push_back(std::move(node));
    return *nodes_.back();
}

bool TestOverlay::wait_ready(std::chrono::seconds budget)
{
    const auto deadline = std::chrono::steady_clock::now() + budget;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
        const auto key = fmt::format("probe:{}", i);
        Bytes data{'p', static_cast<std::uint8_t>(i)};
        // Each probe newer than the last: our nodes keep only the newest record of a slot.
        const auto seq = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
        if (signer_)
            data = signer_->sign({key, "probe", data, seq, std::time(nullptr) + 600, {}});
        bool found = false;
        while (!found && std::chrono::steady_clock::now() < deadline) {
            if (put_and_wait(*nodes_[i], key, data, 1) == true) {
                const auto values = get_and_wait(*nodes_[(i + 1) % nodes_.size()], key);
                found = values && std::any_of(values->begin(), values->end(), [&](const auto& v) { return v.data == data; });
            }
            if (!found)
                std::this_thread::sleep_for(200ms);
        }
        if (!found)
            return false;
    }
    return true;
}

std::optional<bool> put_and_wait(dht::OverlayNode& node, const std::string& key, Bytes data, std::uint64_t id,
                                 std::chrono::seconds lifetime, std::chrono::milliseconds timeout)
{
    auto result = std::make_shared<std::promise<bool>>();
    auto future = result->get_future();
    node.put(key, std::move(data), id, lifetime, [result](bool ok) { result->set_value(ok); });
    if (future.wait_for(timeout) != std::future_status::ready)
        return std::nullopt;
    return future.get();
}

std::optional<std::vector<dht::RawValue>> get_and_wait(dht::OverlayNode& node, const std::string& key,
                                                       std::chrono::milliseconds timeout)
{
    auto result = std::make_shared<std::promise<std::vector<dht::RawValue>>>();
    auto future = result->get_future();
    node.get(key, [result](bool, std::vector<dht::RawValue> values) { result->set_value(std::move(values)); });
    if (future.wait_for(timeout) != std::future_status::ready)
        return std::nullopt;
    return future.get();
}

void TestLoop::post(std::function<void()> work)
{
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(work));
    }
    wake_.notify_one();
}

bool TestLoop::run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::unique_lock lock(mutex_);
    while (!done()) {
        if (!wake_.wait_until(lock, deadline, [this] { return !queue_.empty(); }))
            return done();
        auto work = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        work();
        lock.lock();
    }
    return true;
}

} // namespace imsp2p::test
