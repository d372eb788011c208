// --expect: the "verify" steps of a test description, checked on one SIP
// message. Parsing is pure (usage errors before any I/O); evaluation works on
// the message's text, as it crossed the wire.
#pragma once

#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

namespace imsp2p::verdict {

// One check, from its text:
//   status=CODE   the status code is CODE (200) or in a class (2xx)
//   header:NAME   the message has a NAME header (any case; compact forms count)
//   header:NAME~REGEX  some NAME header's value contains a match of REGEX (ECMAScript)
//   time<MS       the response came less than MS milliseconds after the request
struct Check {
    enum class Kind { status, header_present, header_matches, time_below };
    Kind kind = Kind::status;
    std::string text;        // as given
    int status = 0;          // status: the code, or 100 * class for Nxx
    bool status_class = false;
    std::string header;      // canonical name (full form)
    std::string pattern;
    std::regex regex;
    double limit_ms = 0;
};

// std::invalid_argument with a message naming the problem and the accepted forms.
Check parse_check(const std::string& text);

// The parts of a SIP message the checks look at.
struct SipMessage {
    std::string first_line;               // e.g. "SIP/2.0 200 OK"
    int status = 0;                       // 0 for a request
    std::vector<std::pair<std::string, std::string>> headers; // canonical name, value (unfolded)
};

// Parses a message's start line and header section (the body is ignored).
SipMessage parse_sip_message(const std::string& text);

// The full header name for a compact form ("i" -> "Call-ID") or any case of a
// full one (canonical capitalisation for the common ones, else as given).
std::string canonical_header(const std::string& name);

struct Verdict {
    std::string check;       // the check's text
    bool pass = false;
    std::string message;     // the first line of the message checked, empty when there was none
    std::string actual;      // what was found: the code, the header value, the time in ms
    std::string reason;      // why it failed
};

// `message` null: no message to check (every check fails). `response_ms`:
// the time from the request to this response, if known.
Verdict evaluate(const Check& check, const SipMessage* message, std::optional<double> response_ms);

} // namespace imsp2p::verdict
