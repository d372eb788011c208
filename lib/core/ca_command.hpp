// `p2p-node ca init` and `p2p-node ca issue`: the testbed operator's CA for
// the managed overlay, and the credentials it hands to each core node.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"

#include <string>

namespace imsp2p::core {

struct CaOptions {
    std::string dir;          // holds ca.crt, ca.key and the issued NODE.crt/NODE.key
    std::string name;         // init: the CA's CN; issue: the node's name
    unsigned days = 365;
};

Outcome run_ca_init(const CaOptions& options, cli::Output& out);
Outcome run_ca_issue(const CaOptions& options, cli::Output& out);

} // namespace imsp2p::core
