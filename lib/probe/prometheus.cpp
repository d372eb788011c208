// Prometheus text exposition format 0.0.4: one gauge family per metric,
// base units (seconds, ratios), labels escaped as the format requires.
#include "probe/report.hpp"

#include <fmt/format.h>

#include <map>

namespace imsp2p::probe {
namespace {

std::string escape(const std::string& text)
{
    std::string out;
    for (char c : text) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// rtt_ms → (rtt_seconds, value/1000), loss_pct → (loss_ratio, value/100): Prometheus wants base units.
std::pair<std::string, double> base_unit(const std::string& name, double value)
{
    if (name.ends_with("_ms"))
        return {name.substr(0, name.size() - 3) + "_seconds", value / 1000};
    if (name.ends_with("_pct"))
        return {name.substr(0, name.size() - 4) + "_ratio", value / 100};
    return {name, value};
}

} // namespace

std::string prometheus_text(const std::vector<ProbeResult>& results)
{
    // Grouped by family: the format wants each family's samples together, after its TYPE line.
    std::map<std::string, std::vector<std::string>> families;
    for (const auto& r : results) {
        auto labels = fmt::format("probe=\"{}\",target=\"{}\"", escape(r.probe), escape(r.target));
        if (!r.name.empty())
            labels += fmt::format(",name=\"{}\"", escape(r.name));
        families["overlay_probe_up"].push_back(fmt::format("{{{}}} {}", labels, r.outcome == Outcome::ok ? 1 : 0));
        families["overlay_probe_status"].push_back(fmt::format("{{{}}} {}", labels, static_cast<int>(r.health)));
        for (const auto& m : r.metrics) {
            const auto [name, value] = base_unit(m.name, m.value);
            families["overlay_probe_" + name].push_back(fmt::format("{{{}}} {}", labels, value));
        }
    }
    std::string out;
    for (const auto& [family, samples] : families) {
        out += fmt::format("# TYPE {} gauge\n", family);
        for (const auto& sample : samples)
            out += family + sample + "\n";
    }
    return out;
}

} // namespace imsp2p::probe
