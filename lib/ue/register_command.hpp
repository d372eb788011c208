// ims-register's two modes: one registration (optionally kept alive) and load;
// and its result read back by the tools that build on a registration
// (ims-call, license-fetch).
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "ue/register_options.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace imsp2p::ue {

Outcome run_register(const RegisterOptions& options, cli::Output& out);
Outcome run_register_load(const RegisterOptions& options, cli::Output& out);

// The last "registered" or "refreshed" event of the JSON Lines ims-register
// --json printed, from a file or standard input ("-"). Failure(usage) naming
// the file (and line) when it cannot be read, holds a line that is not
// JSON, or has no registered event.
nlohmann::json read_registration(const std::string& path);

} // namespace imsp2p::ue
