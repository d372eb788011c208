#include "license/failure_throttle.hpp"

#include <algorithm>

namespace imsp2p::license {

FailureThrottle::FailureThrottle(unsigned max_failures, std::chrono::seconds window, std::chrono::seconds block_time,
                                 std::size_t capacity)
    : max_failures_(std::max(1u, max_failures)), window_(window), block_time_(block_time), capacity_(std::max<std::size_t>(1, capacity))
{
}

long FailureThrottle::blocked_for(const std::string& key, Clock::time_point now) const
{
    const auto it = entries_.find(key);
    if (it == entries_.end() || it->second.blocked_until <= now)
        return 0;
    return std::max<long>(1, std::chrono::ceil<std::chrono::seconds>(it->second.blocked_until - now).count());
}

void FailureThrottle::record_failure(const std::string& key, Clock::time_point now)
{
    auto it = entries_.find(key);
    if (it == entries_.end()) {
        if (entries_.size() >= capacity_) {
            entries_.erase(lru_.back());
            lru_.pop_back();
        }
        lru_.push_front(key);
        it = entries_.emplace(key, Entry{}).first;
        it->second.age = lru_.begin();
    } else {
        lru_.splice(lru_.begin(), lru_, it->second.age);
    }
    Entry& e = it->second;
    if (e.window_start + window_ <= now) {
        e.count = 0;
        e.window_start = now;
    }
    if (++e.count >= max_failures_)
        e.blocked_until = now + block_time_;
}

} // namespace imsp2p::license
