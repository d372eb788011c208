#include "core/location.hpp"

#include <algorithm>

namespace imsp2p::core {

bool same_device(const Binding& binding, const std::string& contact, const std::string& instance)
{
    return (!instance.empty() && binding.instance == instance) || binding.contact == contact;
}

MemoryLocation::MemoryLocation(LocationLimits limits, std::function<Clock::time_point()> clock)
    : limits_(limits), clock_(std::move(clock))
{
}

std::vector<Binding> MemoryLocation::current(const std::string& aor)
{
    const auto it = aors_.find(aor);
    if (it == aors_.end())
        return {};
    const auto now = clock_();
    count_ -= std::erase_if(it->second, [&](const Binding& binding) { return binding.expires <= now; });
    if (it->second.empty()) {
        aors_.erase(it);
        return {};
    }
    return it->second;
}

void MemoryLocation::bind(const std::string& aor, Binding binding, Done done)
{
    current(aor);
    auto& bindings = aors_[aor];
    const auto same = std::find_if(bindings.begin(), bindings.end(), [&](const Binding& existing) {
        return same_device(existing, binding.contact, binding.instance);
    });
    if (same != bindings.end()) {
        *same = std::move(binding);
    } else if (count_ >= limits_.bindings && bindings.size() < limits_.bindings_per_aor) {
        if (bindings.empty())
            aors_.erase(aor);
        done({false, "the location service is full", {}});
        return;
    } else {
        // A device that registers from a new contact each time (and no
        // instance id) must not fill the AOR: the oldest binding makes room.
        if (bindings.size() >= limits_.bindings_per_aor) {
            bindings.erase(std::min_element(bindings.begin(), bindings.end(),
                                            [](const Binding& a, const Binding& b) { return a.expires < b.expires; }));
            --count_;
        }
        bindings.push_back(std::move(binding));
        ++count_;
    }
    done({true, {}, bindings});
}

void MemoryLocation::unbind(const std::string& aor, const std::string& contact, const std::string& instance, Done done)
{
    current(aor);
    const auto it = aors_.find(aor);
    if (it != aors_.end()) {
        count_ -= std::erase_if(it->second, [&](const Binding& binding) { return same_device(binding, contact, instance); });
        if (it->second.empty())
            aors_.erase(it);
    }
    done({true, {}, current(aor)});
}

void MemoryLocation::unbind_all(const std::string& aor, Done done)
{
    const auto it = aors_.find(aor);
    if (it != aors_.end()) {
        count_ -= it->second.size();
        aors_.erase(it);
    }
    done({true, {}, {}});
}

void MemoryLocation::lookup(const std::string& aor, Done done)
{
    done({true, {}, current(aor)});
}

void MemoryLocation::purge()
{
    const auto now = clock_();
    for (auto it = aors_.begin(); it != aors_.end();) {
        count_ -= std::erase_if(it->second, [&](const Binding& binding) { return binding.expires <= now; });
        it = it->second.empty() ? aors_.erase(it) : std::next(it);
    }
}

} // namespace imsp2p::core
