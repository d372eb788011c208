// What every probe returns, and how monitoring reads it: a result with the
// DESIGN.md §3 outcome, named figures (metrics) that thresholds, Nagios
// perfdata and Prometheus all take from one place, and JSON fields.
#pragma once

#include "cli/outcome.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace imsp2p::probe {

// Nagios service states, in their exit-code order.
enum class Health { ok = 0, warning = 1, critical = 2, unknown = 3 };
std::string_view health_name(Health health); // "OK", "WARNING", …

struct Metric {
    std::string name;  // snake_case with its unit, e.g. rtt_ms, loss_pct, nodes
    double value = 0;
};

struct ProbeResult {
    std::string probe;            // dht, sip, swarm, license
    std::string target;           // what was probed, as given
    std::string name;             // testbed entry name (all); empty otherwise
    Outcome outcome = Outcome::ok;
    std::string error;            // why, when the outcome is not ok
    std::string summary;          // one line for tables and Nagios, e.g. "16 nodes, put/get 3 ms"
    std::vector<Metric> metrics;
    nlohmann::json fields = nlohmann::json::object(); // the probe's JSON event (snake_case)
    std::string detail;           // human text, several lines (single probes print it)
    std::string item_event;       // JSON event name of each item, e.g. "dht_node"
    std::vector<nlohmann::json> items; // listed things: crawled nodes, pinged URIs, …
    Health health = Health::unknown; // set by evaluate()
    std::string perf;             // Nagios perfdata, set with the thresholds (report.hpp)

    void metric(const std::string& metric_name, double value) { metrics.push_back({metric_name, value}); }
    std::optional<double> find(const std::string& metric_name) const;
};

// A limit on one metric: RTTs and loss must stay below, counts above.
struct Threshold {
    std::string metric;
    double value = 0;
};

struct Thresholds {
    std::vector<Threshold> warning;
    std::vector<Threshold> critical;
};

// "rtt_ms=200" → Threshold; Failure(usage) naming the metrics that exist.
Threshold parse_threshold(const std::string& text);
// True when the metric is better high (a count), false when better low.
bool higher_is_better(const std::string& metric);

// Health from the outcome (no answer, negative, auth: CRITICAL; usage, local:
// UNKNOWN), then raised by any crossed threshold. Fills result.health.
void evaluate(ProbeResult& result, const Thresholds& thresholds);

// The worst health of several results (UNKNOWN ranks below CRITICAL).
Health worst(const std::vector<ProbeResult>& results);

} // namespace imsp2p::probe
