// overlay-probe: health of a live IMS/P2P deployment — DHT overlay, SIP
// nodes, swarms, licence server — for people and for monitoring (Nagios,
// Prometheus, JSON Lines).
#include "cli/tool.hpp"
#include "probe/probe_cli.hpp"

#include <cstdio>

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("overlay-probe", "Probe the health of an IMS/P2P deployment: DHT overlay, SIP nodes, swarms, licence server");
    probe::ProbeCommand command;
    probe::define(tool, command);
    bool ran = false;
    const int code = tool.run(argc, argv, [&] {
        ran = true;
        return probe::run(tool, command);
    });
    // Nagios reads bad arguments as UNKNOWN (3), with the reason on stdout.
    if (!ran && code == 2 && probe::nagios_requested(argc, argv)) {
        std::puts("OVERLAY UNKNOWN: invalid arguments (see stderr)");
        return 3;
    }
    return code;
}
