// Failed login attempts counted per key (an identity, a source address):
// `max_failures` within `window` block the key for `block_time`. Memory is
// bounded: at most `capacity` keys are remembered, and a new one pushes out
// the key that failed least recently (an LRU), so a flood of made-up names
// or addresses costs a fixed table, never the process. Not thread-safe: the
// HTTP authenticator uses it under its lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>

namespace imsp2p::license {

class FailureThrottle {
public:
    using Clock = std::chrono::steady_clock;

    FailureThrottle(unsigned max_failures, std::chrono::seconds window, std::chrono::seconds block_time,
                    std::size_t capacity);

    // Whole seconds until `key` may try again (at least 1), 0 when it is not blocked.
    long blocked_for(const std::string& key, Clock::time_point now) const;
    void record_failure(const std::string& key, Clock::time_point now);
    std::size_t size() const { return entries_.size(); }

private:
    struct Entry {
        unsigned count = 0;
        Clock::time_point window_start, blocked_until;
        std::list<std::string>::iterator age; // in lru_
    };

    unsigned max_failures_;
    std::chrono::seconds window_, block_time_;
    std::size_t capacity_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_; // front: the key that failed most recently
};

} // namespace imsp2p::license
