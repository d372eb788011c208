#include "probe/dht_client.hpp"

#include "cli/outcome.hpp"
#include "dht/loopback_alias.hpp"
#include "dht/overlay_node.hpp"
#include "dht/socket_hub.hpp"

#include <fmt/format.h>
#include <opendht.h>
#include <opendht/node.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <numeric>

namespace imsp2p::probe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t max_in_flight = 32; // searches or pings at once: enough for speed, gentle on the overlay

// A one-shot answer that may come after nobody waits any more.
template <typename T>
struct Pending {
    std::mutex mutex;
    std::condition_variable cv;
    std::optional<T> value;
    void set(T v)
    {
        std::lock_guard lock(mutex);
        if (!value)
            value = std::move(v);
        cv.notify_all();
    }
    std::optional<T> wait_until(Clock::time_point deadline)
    {
        std::unique_lock lock(mutex);
        cv.wait_until(lock, deadline, [this] { return value.has_value(); });
        return value;
    }
};

::dht::SockAddr numeric(const std::string& address)
{
    const auto sin = ipv4_peer(address);
    return ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
}

::dht::InfoHash key_of(const std::string& key_hex)
{
    ::dht::InfoHash key(key_hex);
    if (!key)
        throw Failure(Outcome::usage, fmt::format("'{}' is not a 40-digit hex DHT key", key_hex));
    return key;
}

DhtPeer peer_of(const ::dht::Node& node)
{
    return {node.getId().toString(), dht::unalias(node.getAddr()).toString()};
}

// Runs `start(i, done)` for every index with at most max_in_flight open,
// until all finished or the deadline passed.
template <typename T, typename Start>
std::vector<T> bounded(std::size_t count, Clock::time_point deadline, Start start)
{
    struct Shared {
        std::mutex mutex;
        std::condition_variable cv;
        std::vector<std::optional<T>> results;
        std::size_t open = 0;
    };
    auto shared = std::make_shared<Shared>();
    shared->results.resize(count);
    std::unique_lock lock(shared->mutex);
    for (std::size_t i = 0; i < count; ++i) {
        if (!shared->cv.wait_until(lock, deadline, [&] { return shared->open < max_in_flight; }))
            break;
        ++shared->open;
        lock.unlock();
        start(i, [shared, i](T value) {
            std::lock_guard held(shared->mutex);
            if (!shared->results[i]) {
                shared->results[i] = std::move(value);
                --shared->open;
            }
            shared->cv.notify_all();
        });
        lock.lock();
    }
    shared->cv.wait_until(lock, deadline, [&] { return shared->open == 0; });
    std::vector<T> out;
    for (auto& result : shared->results)
        out.push_back(result ? *result : T{});
    return out;
}

} // namespace

sockaddr_in ipv4_peer(const std::string& host_port)
{
    const auto [host, port] = dht::parse_bootstrap(host_port, "DHT node");
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1)
        throw Failure(Outcome::usage, fmt::format("DHT node '{}' is not IPv4-ADDRESS:PORT", host_port));
    return sin;
}

struct DhtClient::Runner : ::dht::DhtRunner {};

std::string stable_node_id(const DhtClientConfig& config)
{
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    return ::dht::InfoHash::get(fmt::format("imsp2p overlay-probe\n{}\n{}\n{}", host, config.bind, config.network_id))
        .toString();
}

std::shared_ptr<DhtClient> DhtClient::shared(const DhtClientConfig& config)
{
    static std::mutex mutex;
    static std::map<std::pair<std::string, std::uint32_t>, std::weak_ptr<DhtClient>> clients;
    const std::lock_guard lock(mutex);
    auto& slot = clients[{config.bind, config.network_id}];
    auto client = slot.lock();
    if (!client) {
        client = std::make_shared<DhtClient>(config);
        slot = client;
    }
    return client;
}

DhtClient::DhtClient(const DhtClientConfig& config)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    if (inet_pton(AF_INET, config.bind.c_str(), &sin.sin_addr) != 1)
        throw Failure(Outcome::usage, fmt::format("--bind '{}' is not an IPv4 address", config.bind));
    if (config.network_id == 0)
        throw Failure(Outcome::usage, "--network-id 0 is OpenDHT's public network: give the overlay's private id");
    ::dht::DhtRunner::Config dht_config;
    dht_config.dht_config.node_config.network = config.network_id;
    dht_config.dht_config.node_config.node_id = ::dht::InfoHash(stable_node_id(config));
    // Probes send many requests to few peers, and testbed peers share one IP.
    dht_config.dht_config.node_config.max_peer_req_per_sec = -1;
    dht_config.dht_config.node_config.max_req_per_sec = -1;
    dht_config.threaded = true;
    dht_config.bind4 = ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    runner_ = std::make_unique<Runner>();
    try {
        hub_ = dht::SocketHub::create();
        ::dht::DhtRunner::Context context;
        context.sock = hub_->open(dht_config.bind4);
        runner_->run(dht_config, std::move(context));
    } catch (const std::exception& error) {
        throw Failure(Outcome::local, fmt::format("cannot bind the probe's DHT node on {}: {}", config.bind, error.what()));
    }
}

DhtClient::~DhtClient()
{
    // The probe leaves nothing worth handing on: no wait for a graceful shutdown.
    runner_->join();
}

std::vector<std::string> DhtClient::resolve(const std::string& host_port)
{
    const auto [host, port] = dht::parse_bootstrap(host_port, "--bootstrap");
    std::vector<std::string> out;
    try {
        for (const auto& address : ::dht::SockAddr::resolve(host, std::to_string(port)))
            if (address.getFamily() == AF_INET)
                out.push_back(address.toString());
    } catch (const std::exception& error) {
        throw Failure(Outcome::no_answer, fmt::format("cannot resolve {}: {}", host, error.what()));
    }
    if (out.empty())
        throw Failure(Outcome::no_answer, fmt::format("cannot resolve {}: no IPv4 address", host));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<double> DhtClient::ping(const std::string& address, std::chrono::milliseconds timeout)
{
    return ping_all({address}, timeout).front();
}

std::vector<std::optional<double>> DhtClient::ping_all(const std::vector<std::string>& addresses,
                                                       std::chrono::milliseconds timeout)
{
    std::vector<::dht::SockAddr> parsed;
    for (const auto& address : addresses)
        parsed.push_back(numeric(address));
    const auto deadline = Clock::now() + timeout;
    return bounded<std::optional<double>>(parsed.size(), deadline, [&](std::size_t i, auto done) {
        const auto started = Clock::now();
        // OpenDHT's bootstrap ping: calls back true on the node's reply, false when it expires.
        runner_->bootstrap(parsed[i], [started, done](bool ok) {
            const std::chrono::duration<double, std::milli> took = Clock::now() - started;
            done(ok ? std::optional<double>(took.count()) : std::nullopt);
        });
    });
}

void DhtClient::bootstrap(const std::string& address)
{
    runner_->bootstrap(numeric(address), {});
}

Lookup DhtClient::lookup(const std::string& key_hex, std::chrono::milliseconds timeout)
{
    return lookup_all({key_hex}, timeout).front();
}

std::vector<Lookup> DhtClient::lookup_all(const std::vector<std::string>& keys_hex, std::chrono::milliseconds timeout)
{
    std::vector<::dht::InfoHash> keys;
    for (const auto& key : keys_hex)
        keys.push_back(key_of(key));
    const auto deadline = Clock::now() + timeout;
    return bounded<Lookup>(keys.size(), deadline, [&](std::size_t i, auto done) {
        struct State {
            std::mutex mutex;
            std::vector<Bytes> values;
        };
        auto state = std::make_shared<State>();
        const auto started = Clock::now();
        runner_->get(
            keys[i],
            [state](const std::vector<std::shared_ptr<::dht::Value>>& values) {
                std::lock_guard lock(state->mutex);
                for (const auto& value : values)
                    if (value && state->values.size() < 64)
                        state->values.push_back(value->data);
                return true;
            },
            [state, started, done](bool ok, const std::vector<std::shared_ptr<::dht::Node>>& nodes) {
                Lookup result;
                result.ok = ok;
                result.ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
                for (const auto& node : nodes)
                    if (node)
                        result.nodes.push_back(peer_of(*node));
                std::lock_guard lock(state->mutex);
                result.values = state->values;
                done(std::move(result));
            });
    });
}

bool DhtClient::put(const std::string& key_hex, const Bytes& data, std::chrono::milliseconds timeout)
{
    auto pending = std::make_shared<Pending<bool>>();
    auto value = std::make_shared<::dht::Value>(data);
    runner_->put(key_of(key_hex), value, [pending](bool ok) { pending->set(ok); });
    return pending->wait_until(Clock::now() + timeout).value_or(false);
}

unsigned DhtClient::good_nodes() const
{
    return runner_->getNodesStats(AF_INET).good_nodes;
}

unsigned DhtClient::dubious_nodes() const
{
    return runner_->getNodesStats(AF_INET).dubious_nodes;
}

std::vector<DhtPeer> DhtClient::routing_table() const
{
    std::vector<DhtPeer> out;
    for (const auto& node : runner_->exportNodes())
        out.push_back({node.id.toString(),
                       dht::unalias(::dht::SockAddr(reinterpret_cast<const sockaddr*>(&node.ss), node.sslen)).toString()});
    return out;
}

unsigned long DhtClient::requests_sent() const
{
    const auto counts = runner_->getNodeMessageStats(false);
    return std::accumulate(counts.begin(), counts.end(), 0UL);
}

std::string DhtClient::node_id() const
{
    return runner_->getNodeId().toString();
}

std::string DhtClient::hash_of(const std::string& text)
{
    return ::dht::InfoHash::get(text).toString();
}

std::string DhtClient::random_key()
{
    return ::dht::InfoHash::getRandom().toString();
}

} // namespace imsp2p::probe
