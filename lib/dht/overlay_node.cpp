#include "dht/overlay_node.hpp"

#include "cli/outcome.hpp"
#include "dht/node_state.hpp"
#include "dht/socket_hub.hpp"

#include <fmt/format.h>
#include <opendht.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <future>
#include <set>
#include <stdexcept>

namespace imsp2p::dht {
namespace {

using Nodes = std::vector<std::shared_ptr<::dht::Node>>;

constexpr std::size_t max_value_size = 32 * 1024; // a record is well below; OpenDHT's own limit is 64 KiB
constexpr std::size_t max_values_per_get = 4096;   // what one get may collect, hostile nodes included

// A value type whose store policy keeps the values `valid(key, value)` gives
// a record for, and whose edit policy also needs `replaces(old value, new
// record)`. Without a verifier (`checked` false) anything is stored and may
// be replaced.
template <typename Valid, typename Replaces>
::dht::ValueType checked_value_type(std::uint16_t type, const char* name, std::chrono::seconds expiration, bool checked,
                                    Valid valid, Replaces replaces)
{
    auto store = [valid](::dht::InfoHash key, std::shared_ptr<::dht::Value>& value, const ::dht::InfoHash&,
                         const ::dht::SockAddr&) { return value && valid(key, *value).has_value(); };
    auto edit = [valid, replaces, checked](::dht::InfoHash key, const std::shared_ptr<::dht::Value>& old_value,
                                           std::shared_ptr<::dht::Value>& new_value, const ::dht::InfoHash&,
                                           const ::dht::SockAddr&) {
        const auto next = new_value ? valid(key, *new_value) : std::nullopt;
        if (!next)
            return false;
        return !checked || !old_value || replaces(*old_value, *next);
    };
    return ::dht::ValueType(type, name, expiration, store, edit);
}

// The record type: what our nodes accept to store, and to replace.
::dht::ValueType record_value_type(std::uint16_t type, const char* name, std::chrono::seconds expiration,
                                   const std::string& node, std::shared_ptr<const Verifier> verifier)
{
    // A valid record, written for this key.
    auto valid = [node, verifier](const ::dht::InfoHash& key, const ::dht::Value& value) -> std::optional<Record> {
        if (value.data.size() > max_value_size)
            return std::nullopt;
        if (!verifier)
            return Record{};
        auto checked = verifier->check(value.data, std::time(nullptr));
        if (checked.ok() && ::dht::InfoHash::get(checked.record.key) == key)
            return std::move(checked.record);
        spdlog::debug("overlay {}: refused to store a value under {}: {} {}", node, key.toString(),
                      checked.ok() ? "wrong-key" : verdict_name(checked.verdict), checked.why);
        return std::nullopt;
    };
    // Replacing needs a higher sequence number, so an old copy re-announced by
    // another node (or replayed) never overwrites a newer binding or tombstone.
    auto replaces = [](const ::dht::Value& old_value, const Record& next) {
        const auto previous = decode_record(old_value.data);
        return !previous || next.seq > previous->record.seq;
    };
    return checked_value_type(type, name, expiration, verifier != nullptr, valid, replaces);
}

// The content type: a record signed by a publisher certified by the overlay
// CA, for the key it names; replaced only by the same publisher's newer one.
::dht::ValueType content_value_type(const OverlayConfig& config)
{
    const auto verifier = config.content_verifier;
    const auto on_refused = config.on_refused_content;
    auto valid = [verifier, on_refused](const ::dht::InfoHash& key, const ::dht::Value& value) -> std::optional<ContentRecord> {
        if (!verifier)
            return ContentRecord{};
        ContentChecked checked;
        if (value.data.size() > max_value_size) {
            checked.why = fmt::format("{} bytes", value.data.size());
        } else {
            checked = verifier->check(value.data, std::time(nullptr));
            if (checked.ok() && ::dht::InfoHash::get(checked.key) == key)
                return std::move(checked.record);
            if (checked.ok()) {
                checked.verdict = ContentVerdict::wrong_key;
                checked.why = fmt::format("written for {}", checked.key);
            }
        }
        if (on_refused)
            on_refused(checked.key.empty() ? key.toString() : checked.key, checked);
        return std::nullopt;
    };
    // The old one may have expired meanwhile (then anyone's record replaces it).
    auto replaces = [verifier](const ::dht::Value& old_value, const ContentRecord& next) {
        const auto previous = verifier->check(old_value.data, std::time(nullptr));
        return !previous.ok() || (previous.record.info.publisher == next.info.publisher && next.seq > previous.record.seq);
    };
    return checked_value_type(OverlayNode::content_type, "imsp2p-content", OverlayNode::content_lifetime,
                              verifier != nullptr, valid, replaces);
}

// The load type: a record the configured check accepts, for the key it
// names; replaced only by the same signer's newer one (or when the old one
// no longer passes, e.g. expired).
::dht::ValueType load_value_type(const OverlayConfig& config)
{
    const auto check = config.load_check;
    auto valid = [check](const ::dht::InfoHash& key, const ::dht::Value& value) -> std::optional<OverlayConfig::SlotCheck> {
        if (!check)
            return OverlayConfig::SlotCheck{};
        if (value.data.size() > max_value_size)
            return std::nullopt;
        auto slot = check(value.data);
        if (!slot || ::dht::InfoHash::get(slot->key) != key)
            return std::nullopt;
        return slot;
    };
    auto replaces = [check](const ::dht::Value& old_value, const OverlayConfig::SlotCheck& next) {
        const auto previous = check(old_value.data);
        return !previous || (previous->signer == next.signer && next.seq > previous->seq);
    };
    return checked_value_type(OverlayNode::load_type, "imsp2p-load", OverlayNode::load_lifetime, check != nullptr, valid,
                              replaces);
}

} // namespace

struct OverlayNode::Runner : ::dht::DhtRunner {};

struct OverlayNode::Listening {
    ::dht::InfoHash key;
    std::shared_future<std::size_t> token;
    std::mutex mutex;     // held while on_values runs, and by unlisten: no call after it
    bool active = true;
    Listener on_values;
};

std::pair<std::string, std::uint16_t> parse_bootstrap(const std::string& host_port, const std::string& what)
{
    const auto colon = host_port.rfind(':');
    std::string host = colon == std::string::npos ? std::string() : host_port.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    unsigned port = 0;
    const char* first = host_port.data() + (colon == std::string::npos ? 0 : colon + 1);
    const char* last = host_port.data() + host_port.size();
    const auto [end, error] = std::from_chars(first, last, port);
    if (host.empty() || error != std::errc{} || end != last || port == 0 || port > 65535)
        throw Failure(Outcome::usage, fmt::format("{} '{}' is not HOST:PORT", what, host_port));
    return {host, static_cast<std::uint16_t>(port)};
}

OverlayNode::OverlayNode(OverlayConfig config) : config_(std::move(config))
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(config_.port);
    if (inet_pton(AF_INET, config_.address.c_str(), &sin.sin_addr) != 1)
        throw Failure(Outcome::usage, fmt::format("overlay address '{}' is not an IPv4 address", config_.address));
    if (config_.network_id == 0)
        throw Failure(Outcome::usage, "overlay network id 0 is OpenDHT's public network: give the private overlay's id");
    for (const auto& entry : config_.bootstrap)
        parse_bootstrap(entry, "overlay bootstrap node");

    ::dht::InfoHash id; // zero: OpenDHT picks a random one
    std::vector<::dht::NodeExport> cached;
    if (!config_.state_dir.empty()) {
        std::error_code error;
        std::filesystem::create_directories(config_.state_dir, error);
        if (error)
            throw Failure(Outcome::local, fmt::format("{}: cannot create: {}", config_.state_dir.string(), error.message()));
        const auto id_file = config_.state_dir / "node-id";
        try {
            id = read_node_id(id_file).value_or(::dht::InfoHash{});
        } catch (const Failure& failure) {
            spdlog::warn("{}; the node takes a new id", failure.what());
        }
        if (!id) {
            id = ::dht::InfoHash::getRandom();
            write_node_id(id_file, id);
        }
        try {
            cached = read_node_cache(config_.state_dir / "nodes");
        } catch (const Failure& failure) {
            spdlog::warn("{}; node cache ignored", failure.what());
        }
    }

    // Loopback-friendly and private (NOTES-deps.md): IPv4 on the given address
    // only, our network id, no per-peer rate limit (testbed peers share IPs)
    // and no global one: OpenDHT's default dropped core-to-core requests
    // silently at ~1,000 registrations/s (core-register benchmark), each drop
    // costing the requester a 1 s timeout.
    ::dht::DhtRunner::Config dht_config;
    dht_config.dht_config.node_config.node_id = id;
    dht_config.dht_config.node_config.network = config_.network_id;
    dht_config.dht_config.node_config.max_peer_req_per_sec = -1;
    dht_config.dht_config.node_config.max_req_per_sec = -1;
    dht_config.threaded = true;
    dht_config.bind4 = ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&sin), sizeof sin);
    runner_ = std::make_unique<Runner>();
    try {
        ::dht::DhtRunner::Context context;
        if (config_.hub)
            context.sock = config_.hub->open(dht_config.bind4);
        runner_->run(dht_config, std::move(context));
    } catch (const std::exception& error) {
        throw Failure(Outcome::local,
                      fmt::format("overlay node cannot bind {}:{}: {}", config_.address, config_.port, error.what()));
    }
    port_ = runner_->getBoundPort(AF_INET);
    // Registered once running (before that, DhtRunner has no node to give it
    // to); nobody has our address before the bootstrap below, and readers
    // check every value anyway.
    runner_->registerType(record_value_type(record_type, "imsp2p-record", max_lifetime, config_.name, config_.verifier));
    // Notices are checked like every record (a MAC costs ~1 µs), so a flood
    // of forged ones cannot fill the storing nodes.
    runner_->registerType(record_value_type(notice_type, "imsp2p-notice", notice_lifetime, config_.name, config_.verifier));
    runner_->registerType(record_value_type(cacher_type, "imsp2p-cacher", cacher_lifetime, config_.name, config_.verifier));
    runner_->registerType(content_value_type(config_));
    runner_->registerType(load_value_type(config_));
    if (!cached.empty())
        runner_->bootstrap(cached);
    for (const auto& entry : config_.bootstrap)
        bootstrap(entry);
    spdlog::info("overlay node {} id {} on {}:{}, network {:#x}, {} cached and {} configured peers", config_.name,
                 runner_->getNodeId().toString(), config_.address, port_, config_.network_id, cached.size(),
                 config_.bootstrap.size());
    housekeeper_ = std::thread([this] { housekeeping(); });
}

OverlayNode::~OverlayNode()
{
    stop();
}

OverlayNode::DeadlineKey OverlayNode::arm(std::function<void()> expire)
{
    std::lock_guard lock(timer_mutex_);
    const DeadlineKey key{std::chrono::steady_clock::now() + config_.op_timeout, ++deadline_count_};
    const bool earliest = deadlines_.empty() || key < deadlines_.begin()->first;
    deadlines_.emplace(key, std::move(expire));
    if (earliest)
        timer_wake_.notify_one();
    return key;
}

void OverlayNode::disarm(const DeadlineKey& key)
{
    std::lock_guard lock(timer_mutex_);
    deadlines_.erase(key);
}

void OverlayNode::housekeeping()
{
    // The first write comes early: a node killed in its first minute must
    // still find its way back without being told where the overlay is.
    auto next_cache_write = std::chrono::steady_clock::now() + std::min(config_.cache_period, std::chrono::seconds(5));
    std::unique_lock lock(timer_mutex_);
    while (!timer_stop_) {
        auto wake_at = next_cache_write;
        if (!deadlines_.empty())
            wake_at = std::min(wake_at, deadlines_.begin()->first.first);
        timer_wake_.wait_until(lock, wake_at);
        if (timer_stop_)
            break;
        const auto now = std::chrono::steady_clock::now();
        std::vector<std::function<void()>> expired;
        while (!deadlines_.empty() && deadlines_.begin()->first.first <= now) {
            expired.push_back(std::move(deadlines_.begin()->second));
            deadlines_.erase(deadlines_.begin());
        }
        const bool write_cache = now >= next_cache_write;
        if (write_cache)
            next_cache_write = now + config_.cache_period;
        lock.unlock();
        for (auto& expire : expired)
            expire();
        if (write_cache) {
            try {
                save_node_cache();
            } catch (const std::exception& error) {
                spdlog::warn("overlay {}: {}", config_.name, error.what());
            }
        }
        lock.lock();
    }
}

void OverlayNode::put(const std::string& key, Bytes data, std::uint64_t id, std::chrono::seconds, PutDone done,
                      std::uint16_t type)
{
    if (id == 0)
        throw std::invalid_argument("overlay value id 0 is OpenDHT's 'no id'");
    // Created now: a node that does not know our value type (a plain dhtnode)
    // keeps it for its default expiration; a backdated creation time, which
    // would give each value its own lifetime on our nodes, made such nodes
    // drop it at once. Readers ignore records past their signed expiry.
    const auto created = ::dht::clock::now();
    auto value = std::make_shared<::dht::Value>(type, std::move(data), id);
    std::unique_lock lock(mutex_); // stop() cannot begin between the check and the put
    if (stopping_) {
        lock.unlock();
        done(false);
        return;
    }
    // Whoever comes first answers: OpenDHT or the deadline.
    auto answered = std::make_shared<std::atomic<bool>>(false);
    const auto deadline = arm([answered, done] {
        if (!answered->exchange(true))
            done(false);
    });
    ::dht::DoneCallback on_done = [this, answered, deadline, done](bool ok, const Nodes&) {
        if (answered->exchange(true))
            return;
        disarm(deadline);
        done(ok);
    };
    runner_->put(::dht::InfoHash::get(key), std::move(value), std::move(on_done), created, false);
}

void OverlayNode::cancel_put(const std::string& key, std::uint64_t id)
{
    std::lock_guard lock(mutex_);
    if (!stopping_)
        runner_->cancelPut(::dht::InfoHash::get(key), id);
}

void OverlayNode::get(const std::string& key, GetDone done)
{
    struct Found {
        std::mutex mutex;
        std::set<std::pair<std::uint64_t, Bytes>> seen;
        std::vector<RawValue> values;
        std::atomic<bool> answered{false};
        std::vector<RawValue> take()
        {
            std::lock_guard lock(mutex);
            return std::move(values);
        }
    };
    auto found = std::make_shared<Found>();
    ::dht::GetCallback on_values = [found](const std::vector<std::shared_ptr<::dht::Value>>& values) {
        std::lock_guard lock(found->mutex);
        for (const auto& value : values) {
            if (value && found->values.size() < max_values_per_get && found->seen.emplace(value->id, value->data).second)
                found->values.push_back({value->id, value->type, value->data});
        }
        return true;
    };
    std::unique_lock lock(mutex_);
    if (stopping_) {
        lock.unlock();
        done(false, {});
        return;
    }
    const auto deadline = arm([found, done] {
        if (!found->answered.exchange(true))
            done(false, found->take());
    });
    ::dht::DoneCallback on_done = [this, found, deadline, done](bool ok, const Nodes&) {
        if (found->answered.exchange(true))
            return;
        disarm(deadline);
        done(ok, found->take());
    };
    runner_->get(::dht::InfoHash::get(key), std::move(on_values), std::move(on_done));
}

std::uint64_t OverlayNode::listen(const std::string& key, Listener on_values)
{
    auto listening = std::make_shared<Listening>();
    listening->key = ::dht::InfoHash::get(key);
    listening->on_values = std::move(on_values);
    std::lock_guard lock(mutex_);
    if (stopping_)
        return 0;
    ::dht::ValueCallback callback = [listening](const std::vector<std::shared_ptr<::dht::Value>>& values, bool expired) {
        std::vector<RawValue> raw;
        for (const auto& value : values)
            if (value && raw.size() < max_values_per_get)
                raw.push_back({value->id, value->type, value->data});
        std::lock_guard held(listening->mutex);
        if (!listening->active)
            return false;
        listening->on_values(std::move(raw), expired);
        return true;
    };
    listening->token = runner_->listen(listening->key, std::move(callback)).share();
    listens_.emplace(++listen_count_, listening);
    return listen_count_;
}

void OverlayNode::unlisten(std::uint64_t handle)
{
    std::shared_ptr<Listening> listening;
    {
        std::lock_guard lock(mutex_);
        const auto found = listens_.find(handle);
        if (found == listens_.end())
            return;
        listening = found->second;
        listens_.erase(found);
        if (!stopping_)
            runner_->cancelListen(listening->key, listening->token);
    }
    std::lock_guard held(listening->mutex);
    listening->active = false;
}

void OverlayNode::bootstrap(const std::string& host_port)
{
    const auto [host, port] = parse_bootstrap(host_port, "overlay bootstrap node");
    const auto service = std::to_string(port);
    // Pinged now, whatever the node's state: OpenDHT pings its list of
    // bootstrap hosts only while it has no good node, so a node that is
    // already connected would otherwise never hear of this one.
    std::vector<::dht::SockAddr> addresses;
    try {
        for (auto& address : ::dht::SockAddr::resolve(host, service))
            if (address.getFamily() == AF_INET)
                addresses.push_back(std::move(address));
    } catch (const std::exception& error) {
        spdlog::warn("overlay {}: cannot resolve bootstrap node {}: {}", config_.name, host_port, error.what());
    }
    if (!addresses.empty())
        runner_->bootstrap(std::move(addresses), ::dht::DoneCallbackSimple{});
    runner_->bootstrap(host, service); // and again whenever the node loses all its peers
}

OverlayStats OverlayNode::stats() const
{
    OverlayStats out;
    const auto nodes = runner_->getNodesStats(AF_INET);
    out.good_nodes = nodes.good_nodes;
    out.dubious_nodes = nodes.dubious_nodes;
    const auto [bytes, values] = runner_->getStoreSize();
    out.stored_bytes = bytes;
    out.stored_values = values;
    out.node_id = node_id();
    out.port = port_;
    return out;
}

std::string OverlayNode::node_id() const
{
    return runner_->getNodeId().toString();
}

void OverlayNode::save_node_cache()
{
    if (config_.state_dir.empty())
        return;
    std::lock_guard lock(cache_mutex_);
    // A node that lost its peers keeps the old cache: it is the way back.
    const auto nodes = runner_->exportNodes();
    if (!nodes.empty())
        write_node_cache(config_.state_dir / "nodes", nodes);
}

void OverlayNode::stop()
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return;
        stopping_ = true;
    }
    try {
        save_node_cache();
    } catch (const std::exception& error) {
        spdlog::warn("overlay {}: {}", config_.name, error.what());
    }
    // OpenDHT hands stored values on before it says it is done: wait, bounded.
    auto finished = std::make_shared<std::promise<void>>();
    auto once = std::make_shared<std::atomic_flag>();
    auto future = finished->get_future();
    runner_->shutdown([finished, once] {
        if (!once->test_and_set())
            finished->set_value();
    });
    if (future.wait_for(config_.shutdown_wait) != std::future_status::ready)
        spdlog::info("overlay {}: values not all handed on after {} ms", config_.name, config_.shutdown_wait.count());
    runner_->join(); // no OpenDHT callback after this
    {
        std::lock_guard lock(mutex_);
        listens_.clear();
    }

    std::map<DeadlineKey, std::function<void()>> open;
    {
        std::lock_guard lock(timer_mutex_);
        timer_stop_ = true;
        open.swap(deadlines_);
    }
    timer_wake_.notify_all();
    if (housekeeper_.joinable())
        housekeeper_.join();
    for (auto& [key, expire] : open)
        expire(); // each unanswered operation fails, once
    spdlog::debug("overlay {} stopped", config_.name);
}

} // namespace imsp2p::dht
