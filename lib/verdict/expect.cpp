#include "verdict/expect.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

namespace imsp2p::verdict {
namespace {

const char* const forms = "the forms are status=CODE (e.g. 200 or 2xx), header:NAME, header:NAME~REGEX, time<MS";

std::invalid_argument bad(const std::string& text, const std::string& why)
{
    return std::invalid_argument(fmt::format("{}: {}; {}", text, why, forms));
}

std::string lower(std::string text)
{
    std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
    return text;
}

std::string trim(const std::string& text)
{
    const auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos)
        return {};
    return text.substr(first, text.find_last_not_of(" \t\r") - first + 1);
}

// RFC 3261 token characters: what a header name may contain.
bool is_token(const std::string& name)
{
    return !name.empty() && std::all_of(name.begin(), name.end(), [](unsigned char c) {
        return std::isalnum(c) || std::string_view("-.!%*_+`'~").find(static_cast<char>(c)) != std::string_view::npos;
    });
}

} // namespace

std::string canonical_header(const std::string& name)
{
    // Compact forms (RFC 3261 §7.3.3 and the extensions' registrations).
    static const std::map<std::string, std::string> compact{
        {"a", "Accept-Contact"}, {"b", "Referred-By"}, {"c", "Content-Type"}, {"d", "Request-Disposition"},
        {"e", "Content-Encoding"}, {"f", "From"}, {"i", "Call-ID"}, {"j", "Reject-Contact"}, {"k", "Supported"},
        {"l", "Content-Length"}, {"m", "Contact"}, {"o", "Event"}, {"r", "Refer-To"}, {"s", "Subject"},
        {"t", "To"}, {"u", "Allow-Events"}, {"v", "Via"}, {"x", "Session-Expires"}, {"y", "Identity"}};
    static const std::map<std::string, std::string> full = [] {
        std::map<std::string, std::string> names;
        for (const auto& [letter, header] : compact)
            names[lower(header)] = header;
        for (const char* header : {"CSeq", "Expires", "Min-Expires", "Max-Forwards", "Route", "Record-Route", "Service-Route",
                                   "Path", "P-Associated-URI", "P-Asserted-Identity", "P-Preferred-Identity",
                                   "WWW-Authenticate", "Proxy-Authenticate", "Authorization", "Proxy-Authorization",
                                   "Authentication-Info", "User-Agent", "Server", "Allow", "Require", "RSeq", "RAck",
                                   "Security-Client", "Security-Server", "Security-Verify", "Retry-After", "Warning",
                                   "Reason", "Date", "Timestamp", "Organization", "Accept", "Unsupported"})
            names[lower(header)] = header;
        return names;
    }();
    const std::string key = lower(name);
    if (auto it = compact.find(key); it != compact.end())
        return it->second;
    if (auto it = full.find(key); it != full.end())
        return it->second;
    return name;
}

Check parse_check(const std::string& text)
{
    Check check;
    check.text = text;
    if (text.rfind("status=", 0) == 0) {
        const std::string code = text.substr(7);
        check.kind = Check::Kind::status;
        const bool digits = code.size() == 3 && std::isdigit(static_cast<unsigned char>(code[0]));
        if (digits && lower(code.substr(1)) == "xx") {
            check.status_class = true;
            check.status = (code[0] - '0') * 100;
        } else if (digits && std::all_of(code.begin(), code.end(), [](unsigned char c) { return std::isdigit(c); })) {
            check.status = std::stoi(code);
        } else {
            throw bad(text, fmt::format("\"{}\" is not a status code (three digits, or a class such as 2xx)", code));
        }
        if (check.status < 100 || check.status > 699)
            throw bad(text, fmt::format("{} is not a SIP status (100-699)", code));
        return check;
    }
    if (text.rfind("header:", 0) == 0) {
        const std::string rest = text.substr(7);
        const auto tilde = rest.find('~');
        const std::string name = rest.substr(0, tilde);
        if (!is_token(name))
            throw bad(text, fmt::format("\"{}\" is not a header name", name));
        check.header = canonical_header(name);
        if (tilde == std::string::npos) {
            check.kind = Check::Kind::header_present;
            return check;
        }
        check.kind = Check::Kind::header_matches;
        check.pattern = rest.substr(tilde + 1);
        try {
            check.regex = std::regex(check.pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& error) {
            throw bad(text, fmt::format("bad regular expression \"{}\": {}", check.pattern, error.what()));
        }
        return check;
    }
    if (text.rfind("time<", 0) == 0) {
        const std::string bound = text.substr(5);
        check.kind = Check::Kind::time_below;
        const auto* end = bound.data() + bound.size();
        const auto [next, error] = std::from_chars(bound.data(), end, check.limit_ms);
        if (bound.empty() || error != std::errc() || next != end || !(check.limit_ms > 0))
            throw bad(text, fmt::format("\"{}\" is not a positive number of milliseconds", bound));
        return check;
    }
    throw bad(text, "unknown check");
}

SipMessage parse_sip_message(const std::string& text)
{
    SipMessage message;
    std::vector<std::string> lines;
    for (std::size_t at = 0; at < text.size();) {
        auto end = text.find('\n', at);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(at, end - at);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        at = end + 1;
        if (line.empty())
            break; // end of the header section
        if ((line[0] == ' ' || line[0] == '\t') && !lines.empty())
            lines.back() += " " + trim(line); // folded continuation
        else
            lines.push_back(line);
    }
    if (lines.empty())
        return message;
    message.first_line = lines.front();
    if (message.first_line.rfind("SIP/2.0 ", 0) == 0 && message.first_line.size() >= 11)
        std::from_chars(message.first_line.data() + 8, message.first_line.data() + 11, message.status);
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto colon = lines[i].find(':');
        if (colon == std::string::npos)
            continue;
        message.headers.emplace_back(canonical_header(trim(lines[i].substr(0, colon))), trim(lines[i].substr(colon + 1)));
    }
    return message;
}

Verdict evaluate(const Check& check, const SipMessage* message, std::optional<double> response_ms)
{
    Verdict verdict;
    verdict.check = check.text;
    if (!message) {
        verdict.reason = "no message to check";
        return verdict;
    }
    verdict.message = message->first_line;
    auto values = [&] {
        std::vector<std::string> found;
        for (const auto& [name, value] : message->headers)
            if (lower(name) == lower(check.header))
                found.push_back(value);
        return found;
    };
    switch (check.kind) {
    case Check::Kind::status:
        if (message->status == 0) {
            verdict.reason = "not a response";
            break;
        }
        verdict.actual = std::to_string(message->status);
        verdict.pass = check.status_class ? message->status / 100 * 100 == check.status : message->status == check.status;
        if (!verdict.pass)
            verdict.reason = fmt::format("status {}", message->status);
        break;
    case Check::Kind::header_present: {
        const auto found = values();
        verdict.pass = !found.empty();
        if (verdict.pass)
            verdict.actual = found.front();
        else
            verdict.reason = fmt::format("no {} header", check.header);
        break;
    }
    case Check::Kind::header_matches: {
        const auto found = values();
        if (found.empty()) {
            verdict.reason = fmt::format("no {} header", check.header);
            break;
        }
        verdict.actual = found.front();
        for (const auto& value : found)
            if (std::regex_search(value, check.regex)) {
                verdict.pass = true;
                verdict.actual = value;
                break;
            }
        if (!verdict.pass)
            verdict.reason = fmt::format("{}: {} does not match", check.header, verdict.actual);
        break;
    }
    case Check::Kind::time_below:
        if (!response_ms) {
            verdict.reason = "no request found to time the response from";
            break;
        }
        verdict.actual = fmt::format("{:.3f}", *response_ms);
        verdict.pass = *response_ms < check.limit_ms;
        if (!verdict.pass)
            verdict.reason = fmt::format("{:.3f} ms", *response_ms);
        break;
    }
    return verdict;
}

} // namespace imsp2p::verdict
