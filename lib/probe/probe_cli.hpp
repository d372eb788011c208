// The options of overlay-probe's probes, defined once: for the command line
// (tools/overlay-probe/main.cpp) and for the entries of a testbed file,
// whose keys are the same long option names (testbed_file.hpp).
#pragma once

#include "cli/tool.hpp"
#include "probe/core_probe.hpp"
#include "probe/dht_probe.hpp"
#include "probe/license_probe.hpp"
#include "probe/sip_probe.hpp"
#include "probe/swarm_probe.hpp"
#include "probe/testbed_file.hpp"

#include <functional>
#include <string>
#include <vector>

namespace imsp2p::probe {

// The positional argument of each probe, as a testbed file names it.
inline constexpr const char* sip_positional = "uri";
inline constexpr const char* swarm_positional = "source";
inline constexpr const char* license_positional = "url";

void add_dht_options(CLI::App& app, DhtProbeOptions& o);
void add_sip_options(CLI::App& app, SipProbeOptions& o);
void add_swarm_options(CLI::App& app, SwarmProbeOptions& o);
void add_license_options(CLI::App& app, LicenseProbeOptions& o);
void add_core_options(CLI::App& app, CoreProbeOptions& o);
// The probe of one testbed file entry, its options parsed and checked as the
// command line's are (Failure(usage) naming `file` and the entry); it runs
// when called.
std::function<ProbeResult()> testbed_probe(const TestbedEntry& entry, double default_timeout, const std::string& file);

struct MonitorOptions {
    bool nagios = false;
    bool prometheus = false;
    std::vector<std::string> warning, critical; // METRIC=VALUE
    double watch = 0;                           // seconds between rounds; 0: one round
    unsigned rounds = 0;                        // with --watch: stop after N rounds (0: until interrupted)
};

struct ProbeCommand {
    DhtProbeOptions dht;
    SipProbeOptions sip;
    SwarmProbeOptions swarm;
    LicenseProbeOptions license;
    CoreProbeOptions core;
    std::string testbed;
    MonitorOptions monitor;
    CLI::App* dht_command = nullptr;
    CLI::App* sip_command = nullptr;
    CLI::App* swarm_command = nullptr;
    CLI::App* license_command = nullptr;
    CLI::App* core_command = nullptr;
    CLI::App* all_command = nullptr;
};

// Adds the subcommands and the monitoring options to the tool.
void define(cli::Tool& tool, ProbeCommand& command);
// Runs the chosen probe(s) and prints the results; the outcome's exit code is
// the tool's (Nagios codes 0-3 with --nagios).
Outcome run(cli::Tool& tool, ProbeCommand& command);
// True when argv asks for Nagios output: bad arguments then exit 3, not 2.
bool nagios_requested(int argc, char** argv);

} // namespace imsp2p::probe
