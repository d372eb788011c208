// Diagnostics on stderr, prefixed with the tool's name, filtered by -v/-q.
#pragma once

#include <string>

namespace imsp2p::cli {

// verbosity 0 shows warnings and errors; each -v shows more, -q only errors, -qq nothing.
void setup_logging(const std::string& tool, int verbosity);

} // namespace imsp2p::cli
