// overlay-probe core: the core nodes as their load records in the managed
// overlay show them (core/load_record.hpp): who is alive, where, how loaded,
// who sheds. Read the way ims-register's --core-overlay reads them.
#pragma once

#include "probe/probe_result.hpp"
#include "ue/core_discovery.hpp"

#include <string>

namespace imsp2p::probe {

struct CoreProbeOptions {
    ue::CoreDiscoveryOptions core; // --core-overlay, --core-ca, --core-network-id
    std::string bind = "0.0.0.0";  // the probe's DHT node
    double timeout = 5;
};

void check(const CoreProbeOptions& options); // Failure(usage) before any I/O
ProbeResult probe_core(const CoreProbeOptions& options);

} // namespace imsp2p::probe
