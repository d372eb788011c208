#include "util/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace imsp2p {
namespace {

constexpr double growth = 1.01;
constexpr double smallest_ms = 0.001;
const double log_growth = std::log(growth);
constexpr std::size_t bucket_count = 1860; // 1.01^1860 µs ≈ 108 s

std::size_t bucket_of(double ms)
{
    if (ms <= smallest_ms)
        return 0;
    const auto index = static_cast<std::size_t>(std::log(ms / smallest_ms) / log_growth) + 1;
    return std::min(index, bucket_count - 1);
}

} // namespace

LatencyHistogram::LatencyHistogram() : buckets_(bucket_count, 0) {}

void LatencyHistogram::add(double ms)
{
    ++buckets_[bucket_of(ms)];
    ++count_;
    max_ = std::max(max_, ms);
}

double LatencyHistogram::quantile(double q) const
{
    if (count_ == 0)
        return 0;
    const auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < buckets_.size(); ++i) {
        seen += buckets_[i];
        if (seen >= rank && buckets_[i] > 0) {
            if (i == buckets_.size() - 1)
                return max_; // the overflow bucket has no upper edge
            // The bucket's upper edge, capped by the true maximum.
            return std::min(max_, smallest_ms * std::pow(growth, static_cast<double>(i)));
        }
    }
    return max_;
}

} // namespace imsp2p
