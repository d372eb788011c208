#include "core/load_meter.hpp"

#include <algorithm>

namespace imsp2p::core {

LoadMeter::LoadMeter(std::chrono::milliseconds window, unsigned buckets)
    : window_(std::max(window, std::chrono::milliseconds(1))), bucket_(window_ / std::max(1u, buckets)),
      counts_(std::max(1u, buckets), 0)
{
}

void LoadMeter::advance(Clock::time_point now)
{
    const std::int64_t index = now.time_since_epoch() / bucket_;
    if (current_ < 0 || index - current_ >= static_cast<std::int64_t>(counts_.size())) {
        std::fill(counts_.begin(), counts_.end(), 0);
    } else {
        for (std::int64_t i = current_ + 1; i <= index; ++i)
            counts_[static_cast<std::size_t>(i) % counts_.size()] = 0;
    }
    current_ = std::max(current_, index);
}

void LoadMeter::add(Clock::time_point now, std::uint64_t count)
{
    advance(now);
    counts_[static_cast<std::size_t>(current_) % counts_.size()] += count;
}

std::uint64_t LoadMeter::in_window(Clock::time_point now)
{
    advance(now);
    std::uint64_t total = 0;
    for (auto count : counts_)
        total += count;
    return total;
}

double LoadMeter::rate(Clock::time_point now)
{
    return static_cast<double>(in_window(now)) / std::chrono::duration<double>(window_).count();
}

} // namespace imsp2p::core
