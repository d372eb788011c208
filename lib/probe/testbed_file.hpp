// The testbed description of `overlay-probe all`: a TOML (or INI) file read
// with CLI11's own config parser, one section per probe, [KIND] or
// [KIND.NAME], whose keys are that probe's long options, e.g.
//
//   [dht.overlay]
//   bootstrap = ["127.0.0.80:25000"]
//   network-id = 4242
//   [sip.core1]
//   uri = ["sip:127.0.0.81:5060"]
//
// Each section is parsed with the same option definitions as the command
// line, so a file accepts exactly what the subcommand does.
#pragma once

#include <string>
#include <vector>

namespace imsp2p::probe {

struct TestbedEntry {
    std::string kind;               // dht, sip, swarm, license
    std::string name;               // NAME, or the kind when the section has none
    std::vector<std::string> args;  // as on a command line: --key=value…, positionals
};

// Failure(usage) naming the file and the problem: unreadable, not
// TOML/INI, a key outside any section, an unknown kind, no probe at all.
std::vector<TestbedEntry> read_testbed(const std::string& file);

} // namespace imsp2p::probe
