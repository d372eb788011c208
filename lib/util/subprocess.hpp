// Runs a program with text on its standard input and collects its standard
// error: for tools driven through stdin so that what is passed (keys, for
// `ip -batch -`) never shows in the process list.
#pragma once

#include <string>
#include <vector>

namespace imsp2p {

struct ProcessResult {
    int status = -1;     // exit status; -1 when it could not start or died of a signal
    std::string stderr_text;
};

// Runs argv[0] (found in PATH) with `input` on its stdin; stdout is discarded.
ProcessResult run_with_input(const std::vector<std::string>& argv, const std::string& input);

} // namespace imsp2p
