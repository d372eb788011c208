// The command-line options of a licence client's IMS credentials, defined
// once for license-fetch and overlay-probe license (and its testbed entries).
#pragma once

#include "license/client_credentials.hpp"

#include <CLI/CLI.hpp>

namespace imsp2p::license {

// --impi, --registration, --password, --k, --op, --opc, --subscribers, --usim-state.
void add_credential_options(CLI::App& app, CredentialOptions& c);

} // namespace imsp2p::license
