#include "util/histogram.hpp"

#include <catch2/catch.hpp>

using imsp2p::LatencyHistogram;

TEST_CASE("latency quantiles within 1%")
{
    LatencyHistogram histogram;
    CHECK(histogram.quantile(0.5) == 0);
    for (int i = 1; i <= 1000; ++i)
        histogram.add(i * 0.01); // 0.01 .. 10 ms
    CHECK(histogram.count() == 1000);
    CHECK(histogram.max() == Approx(10.0));
    CHECK(histogram.quantile(0.5) == Approx(5.0).epsilon(0.011));
    CHECK(histogram.quantile(0.99) == Approx(9.9).epsilon(0.011));
    CHECK(histogram.quantile(1.0) == Approx(10.0).epsilon(0.011));
}

TEST_CASE("latency outside the bucket range is clamped, never lost")
{
    LatencyHistogram histogram;
    histogram.add(0);
    histogram.add(1e9);
    CHECK(histogram.count() == 2);
    CHECK(histogram.quantile(1.0) == Approx(1e9));
}
