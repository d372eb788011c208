#include "core/node_metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cctype>

namespace imsp2p::core {
namespace {

// Method names come from the network: keep label values to a known, bounded set.
std::string method_label(const std::string& method)
{
    static const char* const known[] = {"INVITE", "ACK",     "BYE",    "CANCEL", "OPTIONS", "REGISTER", "PRACK",
                                        "UPDATE", "MESSAGE", "INFO",   "REFER",  "NOTIFY",  "SUBSCRIBE", "PUBLISH"};
    for (const char* name : known)
        if (method == name)
            return method;
    return "other";
}

} // namespace

void NodeMetrics::transaction(const std::string& method, int status)
{
    std::lock_guard lock(mutex_);
    ++transactions_[{method_label(method), std::clamp(status, 100, 699)}];
}

void NodeMetrics::registration(const std::string& outcome)
{
    std::lock_guard lock(mutex_);
    ++registrations_[outcome];
}

void NodeMetrics::lookup(bool ok, double seconds)
{
    std::lock_guard lock(mutex_);
    ++(ok ? lookups_ok_ : lookups_failed_);
    const auto bucket = std::lower_bound(buckets.begin(), buckets.end(), seconds) - buckets.begin();
    ++lookup_buckets_[static_cast<std::size_t>(bucket)];
    lookup_seconds_ += seconds;
}

std::string NodeMetrics::render(const std::function<OverlayGauges()>& overlay) const
{
    std::string out;
    std::lock_guard lock(mutex_);
    out += "# HELP imsp2p_sip_transactions_total SIP requests answered, by method and final status.\n"
           "# TYPE imsp2p_sip_transactions_total counter\n";
    for (const auto& [key, count] : transactions_)
        out += fmt::format("imsp2p_sip_transactions_total{{method=\"{}\",status=\"{}\"}} {}\n", key.first, key.second, count);
    out += "# HELP imsp2p_registrations_total REGISTER outcomes.\n# TYPE imsp2p_registrations_total counter\n";
    for (const auto& [outcome, count] : registrations_)
        out += fmt::format("imsp2p_registrations_total{{outcome=\"{}\"}} {}\n", outcome, count);
    out += "# HELP imsp2p_location_lookups_total Location service lookups.\n# TYPE imsp2p_location_lookups_total counter\n";
    out += fmt::format("imsp2p_location_lookups_total{{result=\"ok\"}} {}\n", lookups_ok_);
    out += fmt::format("imsp2p_location_lookups_total{{result=\"failed\"}} {}\n", lookups_failed_);
    out += "# HELP imsp2p_location_lookup_seconds Latency of location service lookups.\n"
           "# TYPE imsp2p_location_lookup_seconds histogram\n";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < buckets.size(); ++i) {
        cumulative += lookup_buckets_[i];
        out += fmt::format("imsp2p_location_lookup_seconds_bucket{{le=\"{}\"}} {}\n", buckets[i], cumulative);
    }
    cumulative += lookup_buckets_.back();
    out += fmt::format("imsp2p_location_lookup_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    out += fmt::format("imsp2p_location_lookup_seconds_sum {:.6f}\nimsp2p_location_lookup_seconds_count {}\n", lookup_seconds_,
                       cumulative);
    if (overlay) {
        const auto gauges = overlay();
        out += "# HELP imsp2p_dht_nodes Nodes in this node's routing table, by state.\n# TYPE imsp2p_dht_nodes gauge\n";
        out += fmt::format("imsp2p_dht_nodes{{state=\"good\"}} {}\nimsp2p_dht_nodes{{state=\"dubious\"}} {}\n",
                           gauges.good_nodes, gauges.dubious_nodes);
        out += "# HELP imsp2p_dht_stored_values Values this node stores for the overlay.\n# TYPE imsp2p_dht_stored_values gauge\n";
        out += fmt::format("imsp2p_dht_stored_values {}\n", gauges.stored_values);
    }
    return out;
}

void MeteredLocation::lookup(const std::string& aor, Done done)
{
    const auto start = std::chrono::steady_clock::now();
    inner_.lookup(aor, [this, start, done = std::move(done)](LocationResult result) {
        metrics_.lookup(result.ok, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        done(std::move(result));
    });
}

} // namespace imsp2p::core
