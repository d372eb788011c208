#include "cli/outcome.hpp"

namespace imsp2p {

int exit_code(Outcome outcome) noexcept
{
    switch (outcome) {
    case Outcome::ok: return 0;
    case Outcome::negative: return 1;
    case Outcome::usage: return 2;
    case Outcome::no_answer: return 3;
    case Outcome::auth: return 4;
    case Outcome::local: return 5;
    }
    return 5;
}

std::string_view outcome_name(Outcome outcome) noexcept
{
    switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::negative: return "negative";
    case Outcome::usage: return "usage";
    case Outcome::no_answer: return "no_answer";
    case Outcome::auth: return "auth";
    case Outcome::local: return "local";
    }
    return "local";
}

Failure::Failure(Outcome outcome, const std::string& message)
    : std::runtime_error(message), outcome_(outcome)
{
}

} // namespace imsp2p
