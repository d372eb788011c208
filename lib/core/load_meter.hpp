// A rate over a sliding window: events counted in buckets of window/buckets,
// so the rate follows the load within a bucket's time and costs O(1) per
// event. Not thread-safe: one loop uses it (the node's SIP loop).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace imsp2p::core {

class LoadMeter {
public:
    using Clock = std::chrono::steady_clock;

    explicit LoadMeter(std::chrono::milliseconds window = std::chrono::milliseconds(1000), unsigned buckets = 10);

    void add(Clock::time_point now, std::uint64_t count = 1);
    // Events in the window ending now.
    std::uint64_t in_window(Clock::time_point now);
    // Events per second over the window.
    double rate(Clock::time_point now);
    std::chrono::milliseconds window() const { return window_; }

private:
    void advance(Clock::time_point now); // empties the buckets that left the window

    std::chrono::milliseconds window_;
    std::chrono::nanoseconds bucket_;
    std::vector<std::uint64_t> counts_;
    std::int64_t current_ = -1; // index (in bucket units since the epoch) of the newest bucket
};

} // namespace imsp2p::core
