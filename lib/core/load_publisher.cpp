#include "core/load_publisher.hpp"

#include "core/node_overlay.hpp"
#include "util/cpu_time.hpp"

#include <spdlog/spdlog.h>

#include <mutex>

namespace imsp2p::core {

// What OpenDHT's thread may reach after the publisher is gone: nothing but this.
struct LoadPublisher::Shared {
    std::mutex mutex;
    Shedder* shedder = nullptr; // null once the publisher is destroyed
    std::size_t nodes = 0;      // records read last time
};

LoadPublisher::LoadPublisher(NodeOverlay& overlay, Shedder& shedder, std::string sip_uri, std::chrono::seconds interval,
                             Published on_published)
    : overlay_(overlay), shedder_(shedder), sip_(std::move(sip_uri)), interval_(interval),
      on_published_(std::move(on_published)), shared_(std::make_shared<Shared>())
{
    shared_->shedder = &shedder_;
    cpu_at_ = Steady::now();
    cpu_before_ = cpu_seconds();
}

LoadPublisher::~LoadPublisher()
{
    std::lock_guard lock(shared_->mutex);
    shared_->shedder = nullptr;
}

void LoadPublisher::registered(const std::string& aor, const std::vector<Binding>& bindings)
{
    Clock::time_point end{};
    for (const auto& binding : bindings)
        end = std::max(end, binding.expires);
    if (bindings.empty())
        registrations_.erase(aor);
    else
        registrations_[aor] = end;
}

void LoadPublisher::unregistered(const std::string& aor)
{
    registrations_.erase(aor);
}

CoreLoad LoadPublisher::measure(Steady::time_point now)
{
    const double elapsed = std::chrono::duration<double>(now - cpu_at_).count();
    if (elapsed >= 0.5) {
        const double cpu = cpu_seconds();
        cpu_share_ = (cpu - cpu_before_) / elapsed;
        cpu_before_ = cpu;
        cpu_at_ = now;
    }
    std::erase_if(registrations_, [wall = Clock::now()](const auto& entry) { return entry.second <= wall; });
    CoreLoad load;
    load.node = overlay_.credential().name();
    load.sip = sip_;
    load.rate = shedder_.rate(now);
    load.cap = shedder_.options().max_rate;
    load.registrations = registrations_.size();
    load.cpu = cpu_share_;
    load.overloaded = shedder_.overloaded(now);
    load.timestamp_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch()).count();
    return load;
}

void LoadPublisher::tick(Steady::time_point now)
{
    if (now < next_)
        return;
    next_ = now + interval_;
    publish(now);
}

void LoadPublisher::publish(Steady::time_point now)
{
    auto load = measure(now);
    // Three intervals: a node that stops publishing leaves the set within them.
    load.expires = std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count() +
                   3 * interval_.count();
    auto& node = overlay_.overlay();
    node.put(std::string(core_load_key), sign_load(overlay_.credential(), load, load.expires), load_value_id(load.node),
             dht::OverlayNode::load_lifetime,
             [name = load.node](bool ok) {
                 if (!ok)
                     spdlog::debug("load record of {}: put not acknowledged", name);
             },
             dht::OverlayNode::load_type);
    node.get(std::string(core_load_key), [shared = shared_, verifier = overlay_.ca_verifier()](bool, std::vector<dht::RawValue> values) {
        std::vector<Bytes> data;
        for (auto& value : values)
            if (value.type == dht::OverlayNode::load_type)
                data.push_back(std::move(value.data));
        auto loads = newest_loads(*verifier, data, std::time(nullptr));
        std::lock_guard lock(shared->mutex);
        shared->nodes = loads.size();
        if (shared->shedder)
            shared->shedder->set_peers(std::move(loads));
    });
    std::size_t nodes = 0;
    {
        std::lock_guard lock(shared_->mutex);
        nodes = shared_->nodes;
    }
    if (on_published_)
        on_published_(load, nodes);
}

} // namespace imsp2p::core
