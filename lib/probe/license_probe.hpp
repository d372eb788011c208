// overlay-probe license: is the licence server reachable over HTTP(S), and
// how long until its TLS certificate expires. (The test-licence round trip
// needs the licence server's API, which does not exist yet: not done.)
#pragma once

#include "probe/probe_result.hpp"

#include <string>

namespace imsp2p::probe {

struct LicenseProbeOptions {
    std::string url;      // http:// or https://HOST[:PORT][/PATH]
    std::string ca_file;  // trust this CA (PEM) instead of the system's
    double timeout = 5;
};

void check(const LicenseProbeOptions& options); // Failure(usage) before any I/O
ProbeResult probe_license(const LicenseProbeOptions& options);

} // namespace imsp2p::probe
