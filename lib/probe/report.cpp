#include "probe/report.hpp"

#include <fmt/format.h>

#include <cmath>

namespace imsp2p::probe {
namespace {

nlohmann::json result_json(const ProbeResult& result)
{
    nlohmann::json fields{{"probe", result.probe}, {"target", result.target}};
    if (!result.name.empty())
        fields["name"] = result.name;
    fields["status"] = health_name(result.health);
    fields["outcome"] = outcome_name(result.outcome);
    if (!result.error.empty())
        fields["error"] = result.error;
    fields["summary"] = result.summary;
    for (const auto& [key, value] : result.fields.items())
        fields[key] = value;
    return fields;
}

} // namespace

std::string table(const std::vector<ProbeResult>& results)
{
    std::string text = fmt::format("{:<10} {:<8} {:<36} {:<9} {}\n", "NAME", "PROBE", "TARGET", "STATUS", "SUMMARY");
    for (const auto& r : results) {
        auto target = r.target.size() > 36 ? r.target.substr(0, 33) + "..." : r.target;
        text += fmt::format("{:<10} {:<8} {:<36} {:<9} {}\n", r.name.empty() ? "-" : r.name, r.probe, target,
                            health_name(r.health), r.summary);
    }
    return text;
}

void report(const std::vector<ProbeResult>& results, Format format, cli::Output& out)
{
    switch (format) {
    case Format::nagios:
        out.raw(nagios_line(results) + "\n");
        return;
    case Format::prometheus:
        out.raw(prometheus_text(results));
        return;
    case Format::text:
        if (results.size() == 1) {
            const auto& r = results.front();
            out.raw(r.detail);
            out.raw(fmt::format("{} {}: {}\n", r.probe, health_name(r.health), r.summary));
        } else {
            out.raw(table(results));
        }
        return;
    case Format::json:
        for (const auto& r : results) {
            for (const auto& item : r.items) {
                nlohmann::json fields = item;
                fields["probe"] = r.probe;
                if (!r.name.empty())
                    fields["name"] = r.name;
                out.event(r.item_event, fields, "");
            }
            out.event("probe", result_json(r), "");
        }
        if (results.size() > 1) {
            std::size_t ok = 0;
            for (const auto& r : results)
                ok += r.health == Health::ok ? 1 : 0;
            out.event("summary", {{"probes", results.size()}, {"ok", ok}, {"status", health_name(worst(results))}}, "");
        }
        return;
    }
}

int exit_status(const std::vector<ProbeResult>& results, Format format)
{
    if (format == Format::nagios)
        return static_cast<int>(worst(results));
    // The most serious outcome wins: local trouble, then input errors, then the peers'.
    int code = 0;
    auto rank = [](int c) { return c == 5 ? 6 : c == 2 ? 5 : c == 4 ? 4 : c == 3 ? 3 : c; };
    for (const auto& r : results) {
        int c = exit_code(r.outcome);
        if (c == 0 && (r.health == Health::warning || r.health == Health::critical))
            c = 1; // a crossed threshold is a negative answer
        if (rank(c) > rank(code))
            code = c;
    }
    return code;
}

} // namespace imsp2p::probe
