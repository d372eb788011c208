// Nagios plugin conventions (Monitoring Plugins Development Guidelines):
// one line "SERVICE STATUS: text | perfdata", perfdata 'label'=value[UOM];warn;crit.
#include "probe/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace imsp2p::probe {
namespace {

// The guidelines' units: ms and % are understood; other figures are plain counts.
std::string unit_of(const std::string& metric)
{
    if (metric.ends_with("_ms"))
        return "ms";
    if (metric.ends_with("_pct"))
        return "%";
    if (metric.ends_with("_seconds"))
        return "s";
    return "";
}

std::string number(double value)
{
    return fmt::format("{}", std::round(value * 1000) / 1000);
}

std::string limit(const std::vector<Threshold>& limits, const std::string& metric)
{
    for (const auto& t : limits)
        if (t.metric == metric)
            // A count must stay above its limit: Nagios writes that as the range "N:".
            return higher_is_better(metric) ? number(t.value) + ":" : number(t.value);
    return "";
}

std::string upper(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::toupper(c); });
    return text;
}

} // namespace

std::string perfdata(const ProbeResult& result, const Thresholds& thresholds, const std::string& prefix)
{
    std::string out;
    for (const auto& m : result.metrics) {
        auto w = limit(thresholds.warning, m.name), c = limit(thresholds.critical, m.name);
        out += fmt::format("{}'{}{}'={}{}", out.empty() ? "" : " ", prefix, m.name, number(m.value), unit_of(m.name));
        if (!w.empty() || !c.empty())
            out += fmt::format(";{};{}", w, c);
    }
    return out;
}

std::string nagios_line(const std::vector<ProbeResult>& results)
{
    // One line whatever the input: a newline inside a summary would end the plugin output early.
    auto clean = [](std::string text) {
        std::replace(text.begin(), text.end(), '\n', ' ');
        std::replace(text.begin(), text.end(), '|', '/');
        return text;
    };
    const auto status = worst(results);
    if (results.size() == 1) {
        const auto& r = results.front();
        return fmt::format("{} {}: {} | {}", upper(r.probe), health_name(status), clean(r.summary), r.perf);
    }
    std::string text, perf;
    std::size_t ok = 0;
    for (const auto& r : results) {
        ok += r.health == Health::ok ? 1 : 0;
        if (r.health != Health::ok)
            text += fmt::format("; {} {} {}: {}", r.name.empty() ? r.probe : r.name, r.probe, health_name(r.health), clean(r.summary));
        const auto p = r.perf;
        if (!p.empty())
            perf += (perf.empty() ? "" : " ") + p;
    }
    return fmt::format("OVERLAY {}: {}/{} probes OK{} | {}", health_name(status), ok, results.size(), text, perf);
}

} // namespace imsp2p::probe
