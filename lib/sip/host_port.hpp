// Socket addresses given on the command line: ADDRESS, ADDRESS:PORT,
// [IPV6] or [IPV6]:PORT, with numeric addresses only.
#pragma once

#include <string>

namespace imsp2p::sip {

struct HostPort {
    std::string host;  // without brackets
    unsigned port = 0; // 0: not given
};

// Throws Failure(usage) naming `what` (e.g. "--listen") and the reason.
HostPort parse_host_port(const std::string& text, const std::string& what);

// HOST:PORT, with brackets around an IPv6 address.
std::string host_port_text(const std::string& host, unsigned port);

} // namespace imsp2p::sip
