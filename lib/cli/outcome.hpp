// Outcomes of a tool run and the one mapping from outcome to exit code (DESIGN.md §3).
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace imsp2p {

enum class Outcome {
    ok,         // done as asked
    negative,   // the peer answered, but the outcome is negative
    usage,      // bad arguments, files or configuration
    no_answer,  // timeout or unreachable peer
    auth,       // authentication or authorisation failure
    local,      // local error: bind, I/O, a failed write to stdout
};

int exit_code(Outcome outcome) noexcept;
std::string_view outcome_name(Outcome outcome) noexcept;

// Thrown anywhere in the library; the tool runner prints the message on stderr
// and exits with the code of its outcome.
class Failure : public std::runtime_error {
public:
    Failure(Outcome outcome, const std::string& message);
    Outcome outcome() const noexcept { return outcome_; }

private:
    Outcome outcome_;
};

} // namespace imsp2p
