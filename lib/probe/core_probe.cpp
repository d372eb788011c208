#include "probe/core_probe.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <arpa/inet.h>

namespace imsp2p::probe {

void check(const CoreProbeOptions& o)
{
    if (!o.core.enabled())
        throw Failure(Outcome::usage, "overlay-probe core needs --core-overlay HOST:PORT and --core-ca FILE");
    ue::check_core_discovery_options(o.core, "");
    in_addr address{};
    if (inet_pton(AF_INET, o.bind.c_str(), &address) != 1)
        throw Failure(Outcome::usage, fmt::format("invalid --bind '{}': give an IPv4 address", o.bind));
}

ProbeResult probe_core(const CoreProbeOptions& o)
{
    ProbeResult result;
    result.probe = "core";
    result.target = o.core.overlay;
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(std::max(1.0, o.timeout) * 1000));
    ue::CoreDirectory directory(o.core, o.bind, timeout);
    auto nodes = directory.nodes();
    std::sort(nodes.begin(), nodes.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
    std::size_t overloaded = 0;
    double busiest = 0, rate = 0;
    std::uint64_t registrations = 0;
    for (const auto& load : nodes) {
        overloaded += load.overloaded ? 1 : 0;
        busiest = std::max(busiest, load.utilisation());
        rate += load.rate;
        registrations += load.registrations;
        result.items.push_back(core::load_json(load));
    }
    result.item_event = "core_node";
    result.metric("nodes", static_cast<double>(nodes.size()));
    result.metric("overloaded_nodes", static_cast<double>(overloaded));
    result.metric("max_utilisation_pct", busiest * 100);
    result.metric("rate", rate);
    result.metric("registrations", static_cast<double>(registrations));
    result.fields["overlay"] = o.core.overlay;
    result.fields["nodes"] = nodes.size();
    result.fields["overloaded_nodes"] = overloaded;
    result.fields["max_utilisation_pct"] = std::round(busiest * 1000) / 10;
    result.fields["rate"] = std::round(rate * 1000) / 1000;
    result.fields["registrations"] = registrations;
    result.fields["refused_records"] = directory.refused();
    result.summary = fmt::format("{} core node(s), {} overloaded, {:.1f} initial requests/s, {} registrations, busiest at {:.0f}%",
                                 nodes.size(), overloaded, rate, registrations, busiest * 100);
    if (directory.refused())
        result.summary += fmt::format("; {} forged or stale record(s) refused", directory.refused());
    if (!nodes.empty() && overloaded == nodes.size()) {
        result.outcome = Outcome::negative;
        result.error = "every core node is overloaded";
        result.summary = result.error + "; " + result.summary;
    }
    std::string& d = result.detail;
    d += fmt::format("core nodes in the load records of the overlay at {}\n", o.core.overlay);
    d += fmt::format("  {:<12} {:<24} {:>9} {:>7} {:>8} {:>6} {:>5}  {}\n", "NODE", "SIP", "RATE/S", "CAP", "REGS", "CPU%",
                     "UTIL%", "STATE");
    for (const auto& load : nodes)
        d += fmt::format("  {:<12} {:<24} {:>9.1f} {:>7} {:>8} {:>6.0f} {:>5.0f}  {}\n", load.node, load.sip, load.rate,
                         load.cap > 0 ? fmt::format("{:.0f}", load.cap) : "-", load.registrations, load.cpu * 100,
                         load.utilisation() * 100, load.overloaded ? "OVERLOADED" : "ok");
    if (directory.refused())
        d += fmt::format("  {} record(s) refused (not signed by a node of the CA, or expired)\n", directory.refused());
    return result;
}

} // namespace imsp2p::probe
