// overlay-probe sip: OPTIONS pings of SIP nodes, an optional register-and-
// deregister check with a subscriber's credentials, and an optional check
// that a user's binding resolves in the overlay (verified against its CA).
#pragma once

#include "probe/probe_result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace imsp2p::probe {

struct SipProbeOptions {
    std::vector<std::string> uris;     // SIP URIs to ping, e.g. sip:127.0.1.11:5060
    unsigned count = 3;                // OPTIONS per URI
    std::string local;                 // local address; empty: the one towards the first URI's host
    std::string transport = "udp";
    // Register check (with --impu and --password): through the first URI.
    std::string impu, impi, password, registrar;
    // Overlay resolution of --resolve IMPU.
    std::string resolve;
    std::vector<std::string> bootstrap;
    std::uint32_t network_id = 0;
    std::string overlay_key;           // the overlay key file (overlay.key of p2p-node ca init)
    double timeout = 5;                // per transaction
};

void check(const SipProbeOptions& options); // Failure(usage) before any I/O
ProbeResult probe_sip(const SipProbeOptions& options);

} // namespace imsp2p::probe
