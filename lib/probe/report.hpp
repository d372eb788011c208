// How probe results reach the user: one function per output form, all fed
// from the same ProbeResult so that text, JSON, Nagios and Prometheus agree.
#pragma once

#include "cli/output.hpp"
#include "probe/probe_result.hpp"

#include <string>
#include <vector>

namespace imsp2p::probe {

enum class Format { text, json, nagios, prometheus };

// Text: a single result's detail, or a table for several. JSON: the items
// (e.g. dht_node) then one "probe" event per result, and "summary" for several.
void report(const std::vector<ProbeResult>& results, Format format, cli::Output& out);

// Nagios plugin output (one line): "DHT OK: summary | perfdata".
std::string nagios_line(const std::vector<ProbeResult>& results);
// Perfdata of one result: 'name'=value[unit];warn;crit per metric.
std::string perfdata(const ProbeResult& result, const Thresholds& thresholds, const std::string& prefix);
// Prometheus text exposition format (0.0.4): overlay_probe_* gauges labelled by probe and target.
std::string prometheus_text(const std::vector<ProbeResult>& results);

// The table of several results, one line each.
std::string table(const std::vector<ProbeResult>& results);

// The exit code: DESIGN.md §3 for plain runs (the first non-ok outcome,
// preferring the worst), Nagios 0-3 with --nagios.
int exit_status(const std::vector<ProbeResult>& results, Format format);

} // namespace imsp2p::probe
