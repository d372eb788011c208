#include "sip/host_port.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace imsp2p::sip {

HostPort parse_host_port(const std::string& text, const std::string& what)
{
    auto bad = [&](const std::string& reason) {
        return Failure(Outcome::usage, fmt::format("invalid {} '{}': {}", what, text, reason));
    };
    HostPort out;
    std::string port;
    if (text.starts_with("[")) {
        const auto close = text.find(']');
        if (close == std::string::npos)
            throw bad("missing ']'");
        out.host = text.substr(1, close - 1);
        const std::string rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(":"))
            throw bad("expected [ADDRESS]:PORT");
        port = rest.empty() ? "" : rest.substr(1);
        if (rest == ":")
            throw bad("empty port");
    } else if (const auto colon = text.find(':'); colon != std::string::npos && text.find(':', colon + 1) == std::string::npos) {
        out.host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (port.empty())
            throw bad("empty port");
    } else {
        out.host = text; // an IPv4 address, or an IPv6 one without a port
    }
    unsigned char buffer[16];
    if (inet_pton(AF_INET, out.host.c_str(), buffer) != 1 && inet_pton(AF_INET6, out.host.c_str(), buffer) != 1)
        throw bad(fmt::format("'{}' is not an IP address", out.host));
    if (!port.empty()) {
        const bool digits = port.size() <= 5 && std::all_of(port.begin(), port.end(), ::isdigit);
        const unsigned long value = digits ? std::stoul(port) : 0;
        if (value == 0 || value > 65535)
            throw bad("port must be 1-65535");
        out.port = static_cast<unsigned>(value);
    }
    return out;
}

std::string host_port_text(const std::string& host, unsigned port)
{
    return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
}

} // namespace imsp2p::sip
