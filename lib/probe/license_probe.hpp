// overlay-probe license: is the licence server reachable over HTTP(S), and
// how long until its TLS certificate expires; with credentials, a test
// licence round trip (test_license.hpp).
#pragma once

#include "license/client_credentials.hpp"
#include "probe/probe_result.hpp"

#include <string>

namespace imsp2p::probe {

struct LicenseProbeOptions {
    std::string url;      // http:// or https://HOST[:PORT][/PATH]
    std::string ca_file;  // trust this CA (PEM) instead of the system's
    license::CredentialOptions credentials; // with impi: the test-licence round trip
    std::string kid;      // the test licence's KID (hex); "": a reserved one
    double timeout = 5;
};

void check(const LicenseProbeOptions& options); // Failure(usage) before any I/O
ProbeResult probe_license(const LicenseProbeOptions& options);

} // namespace imsp2p::probe
