// What a core node counts for Prometheus (`p2p-node --metrics`): SIP
// transactions by method and status, registrations, location lookups and
// their latency, and the overlay's health. Counters are updated on the SIP
// loop and read by the metrics server's thread: one mutex, short sections.
#pragma once

#include "core/location.hpp"

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace imsp2p::core {

struct OverlayGauges {
    unsigned good_nodes = 0;
    unsigned dubious_nodes = 0;
    std::size_t stored_values = 0;
};

class NodeMetrics {
public:
    // Upper bounds of the lookup latency buckets, in seconds (+Inf implied).
    static constexpr std::array<double, 11> buckets{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2};

    void transaction(const std::string& method, int status);
    void registration(const std::string& outcome); // registered, unregistered, auth_failed, resync
    void lookup(bool ok, double seconds);

    // The Prometheus text exposition format (version 0.0.4); `overlay` adds
    // the overlay gauges (null without --dht). Called from any thread.
    std::string render(const std::function<OverlayGauges()>& overlay) const;

private:
    mutable std::mutex mutex_;
    std::map<std::pair<std::string, int>, std::uint64_t> transactions_; // bounded: methods × statuses seen
    std::map<std::string, std::uint64_t> registrations_;
    std::array<std::uint64_t, buckets.size() + 1> lookup_buckets_{};
    double lookup_seconds_ = 0;
    std::uint64_t lookups_ok_ = 0, lookups_failed_ = 0;
};

// A location service that times its lookups into NodeMetrics and passes
// everything on to the real one.
class MeteredLocation : public LocationService {
public:
    MeteredLocation(LocationService& inner, NodeMetrics& metrics) : inner_(inner), metrics_(metrics) {}
    void bind(const std::string& aor, Binding binding, Done done) override { inner_.bind(aor, std::move(binding), std::move(done)); }
    void unbind(const std::string& aor, const std::string& contact, const std::string& instance, Done done) override
    {
        inner_.unbind(aor, contact, instance, std::move(done));
    }
    void unbind_all(const std::string& aor, Done done) override { inner_.unbind_all(aor, std::move(done)); }
    void lookup(const std::string& aor, Done done) override;

private:
    LocationService& inner_;
    NodeMetrics& metrics_;
};

} // namespace imsp2p::core
