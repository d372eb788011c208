// The TLS options shared by the SIP tools (--tls-ca, --tls-cert, --tls-key,
// --insecure), defined once so their names and help agree everywhere.
#pragma once

#include "cli/tool.hpp"
#include "sip/tls.hpp"

namespace imsp2p::cli {

// `certificate_help` says what our own certificate is for in this tool.
void add_tls_options(Tool& tool, sip::TlsOptions& options, const std::string& certificate_help);

} // namespace imsp2p::cli
