// --trace FILE|- for every SIP-speaking tool, added with one call.
#pragma once

#include <CLI/CLI.hpp>

namespace imsp2p::sip {

// Adds --trace to `app`; the process's TraceWriter gets the path when parsed.
CLI::Option* add_trace_option(CLI::App& app);

} // namespace imsp2p::sip
