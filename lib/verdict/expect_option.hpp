// --expect CHECK (repeatable) for the UE tools: the checks run on the last
// final response to the tool's request (REGISTER, INVITE, MESSAGE) as it came
// off the wire, and a PASS/FAIL line (or a "check" event with --json) is
// printed per check. Any FAIL makes the run exit 1; with every check passed
// the run exits 0 even when the response was a rejection the test expected.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "sip/trace_message.hpp"
#include "verdict/expect.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::verdict {

// The message the checks apply to: the last final response received to a
// `method` request, with the time since that request was first sent.
struct Checked {
    SipMessage message;
    std::optional<double> response_ms;
};
std::optional<Checked> find_final_response(const std::vector<sip::TracedMessage>& trace, const std::string& method);

class ExpectOption {
public:
    explicit ExpectOption(CLI::App& app); // adds --expect; bad syntax is a usage error at parse time

    bool given() const { return !texts_.empty(); }
    CLI::Option* option() const { return option_; }

    // Runs `body` with the SIP trace kept, then checks and prints the verdicts.
    // Without --expect, just runs `body`.
    Outcome run(const std::string& method, cli::Output& out, const std::function<Outcome()>& body);

private:
    std::vector<std::string> texts_;
    CLI::Option* option_ = nullptr;
};

} // namespace imsp2p::verdict
