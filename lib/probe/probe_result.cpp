#include "probe/probe_result.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace imsp2p::probe {
namespace {

// The metrics thresholds may name, and which way is good.
const std::map<std::string, bool>& threshold_metrics()
{
    static const std::map<std::string, bool> metrics{
        {"rtt_ms", false},  {"lookup_p99_ms", false}, {"loss_pct", false},  {"nodes", true},
        {"seeds", true},    {"peers", true},          {"copies", true},     {"cert_days", true},
        {"license_ms", false}, {"overloaded_nodes", false}, {"max_utilisation_pct", false},
    };
    return metrics;
}

bool crossed(const ProbeResult& result, const Threshold& threshold)
{
    const auto value = result.find(threshold.metric);
    if (!value)
        return false;
    return higher_is_better(threshold.metric) ? *value < threshold.value : *value > threshold.value;
}

} // namespace

std::string_view health_name(Health health)
{
    switch (health) {
    case Health::ok: return "OK";
    case Health::warning: return "WARNING";
    case Health::critical: return "CRITICAL";
    case Health::unknown: return "UNKNOWN";
    }
    return "UNKNOWN";
}

std::optional<double> ProbeResult::find(const std::string& metric_name) const
{
    for (const auto& m : metrics)
        if (m.name == metric_name)
            return m.value;
    return std::nullopt;
}

bool higher_is_better(const std::string& metric)
{
    const auto found = threshold_metrics().find(metric);
    return found != threshold_metrics().end() && found->second;
}

Threshold parse_threshold(const std::string& text)
{
    const auto equals = text.find('=');
    Threshold threshold;
    std::string names;
    for (const auto& [name, better_high] : threshold_metrics())
        names += (names.empty() ? "" : ", ") + name;
    if (equals == std::string::npos)
        throw Failure(Outcome::usage, fmt::format("threshold '{}' is not METRIC=VALUE (metrics: {})", text, names));
    threshold.metric = text.substr(0, equals);
    if (!threshold_metrics().contains(threshold.metric))
        throw Failure(Outcome::usage, fmt::format("threshold '{}': no metric '{}' (metrics: {})", text, threshold.metric, names));
    const char* first = text.data() + equals + 1;
    const char* last = text.data() + text.size();
    const auto [end, error] = std::from_chars(first, last, threshold.value);
    if (first == last || error != std::errc{} || end != last || threshold.value < 0)
        throw Failure(Outcome::usage, fmt::format("threshold '{}': '{}' is not a number ≥ 0", text, std::string(first, last)));
    return threshold;
}

void evaluate(ProbeResult& result, const Thresholds& thresholds)
{
    switch (result.outcome) {
    case Outcome::ok: result.health = Health::ok; break;
    case Outcome::usage:
    case Outcome::local: result.health = Health::unknown; return;
    default: result.health = Health::critical; return;
    }
    for (const auto& threshold : thresholds.critical)
        if (crossed(result, threshold)) {
            result.health = Health::critical;
            result.summary += fmt::format(" ({} beyond critical {})", threshold.metric, threshold.value);
            return;
        }
    for (const auto& threshold : thresholds.warning)
        if (crossed(result, threshold)) {
            result.health = Health::warning;
            result.summary += fmt::format(" ({} beyond warning {})", threshold.metric, threshold.value);
            return;
        }
}

Health worst(const std::vector<ProbeResult>& results)
{
    // Nagios ranks CRITICAL above UNKNOWN: one dead service outweighs one that could not be checked.
    auto rank = [](Health h) { return h == Health::critical ? 3 : h == Health::unknown ? 2 : static_cast<int>(h); };
    Health out = Health::ok;
    for (const auto& result : results)
        if (rank(result.health) > rank(out))
            out = result.health;
    return out;
}

} // namespace imsp2p::probe
