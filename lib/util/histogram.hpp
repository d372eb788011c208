// Latency percentiles in bounded memory: log-spaced buckets 1% wide from
// 1 µs to ~100 s, so a load run of any length keeps a fixed footprint.
#pragma once

#include <cstdint>
#include <vector>

namespace imsp2p {

class LatencyHistogram {
public:
    LatencyHistogram();
    void add(double milliseconds);
    std::uint64_t count() const { return count_; }
    double max() const { return max_; }
    // The q-quantile (0 < q ≤ 1) in milliseconds, within 1%; 0 when empty.
    double quantile(double q) const;

private:
    std::vector<std::uint64_t> buckets_;
    std::uint64_t count_ = 0;
    double max_ = 0;
};

} // namespace imsp2p
