// The test-licence round trip of overlay-probe license: an authenticated
// POST /license as a subscriber, to show that the licence server's AAA path
// (Digest challenge, subscriber data, policy) works, not just its socket.
#pragma once

#include "probe/license_probe.hpp"
#include "probe/probe_result.hpp"

#include <string>

namespace imsp2p::probe {

// The KID asked for without --kid: 32 zeros, CENC's "no key", which no
// content should use. The server's 404 for it after a Digest challenge was
// answered proves the credentials work and nothing is granted or charged.
inline constexpr const char* reserved_kid = "00000000000000000000000000000000";

// Failure(usage) for a bad --kid or credentials, before any I/O.
void check_test_license(const LicenseProbeOptions& options);

// Runs the round trip against `server` (http(s)://HOST:PORT) and adds its
// figures to `result` (the field "test_license", the metric license_ms);
// sets the outcome and error when it fails. Returns a few words for the
// summary. The key that comes back is checked, never shown.
std::string test_license(const LicenseProbeOptions& options, const std::string& server, ProbeResult& result);

} // namespace imsp2p::probe
