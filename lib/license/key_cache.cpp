#include "license/key_cache.hpp"

namespace imsp2p::license {

std::optional<std::string> KeyCache::open(const std::string& kid, const std::string& sealed)
{
    {
        std::lock_guard lock(mutex_);
        if (const auto it = keys_.find(kid); it != keys_.end() && it->second.sealed == sealed)
            return it->second.key;
    }
    auto key = master_.open(kid, sealed);
    if (key) {
        std::lock_guard lock(mutex_);
        if (keys_.size() >= capacity_) // more KIDs than that in use: start over rather than track ages
            keys_.clear();
        keys_.insert_or_assign(kid, Entry{sealed, *key});
    }
    return key;
}

} // namespace imsp2p::license
