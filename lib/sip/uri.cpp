#include "sip/uri.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace imsp2p::sip {

SipUri parse_sip_uri(const std::string& given, const std::string& what, bool need_user)
{
    std::string text = given;
    if (text.size() >= 2 && text.front() == '<' && text.back() == '>')
        text = text.substr(1, text.size() - 2);
    auto bad = [&](const std::string& reason) {
        return Failure(Outcome::usage, fmt::format("invalid SIP URI '{}' for {}: {}", given, what, reason));
    };
    if (text.empty())
        throw bad("empty");
    if (text.find_first_of(" \t\r\n<>\"") != std::string::npos)
        throw bad("contains whitespace, quotes or angle brackets");

    struct HomeUnref {
        void operator()(su_home_t* home) const { su_home_unref(home); }
    };
    std::unique_ptr<su_home_t, HomeUnref> home(static_cast<su_home_t*>(su_home_new(sizeof(su_home_t))));
    url_t* url = url_make(home.get(), text.c_str());
    if (!url)
        throw bad("cannot be parsed");
    if (url->url_type != url_sip && url->url_type != url_sips)
        throw bad("scheme must be sip: or sips:");
    if (!url->url_host || !*url->url_host)
        throw bad("no host");
    if (need_user && (!url->url_user || !*url->url_user))
        throw bad("no user part (expected sip:user@domain)");

    SipUri uri;
    uri.text = text;
    uri.scheme = url->url_type == url_sips ? "sips" : "sip";
    uri.user = url->url_user ? url->url_user : "";
    uri.host = url->url_host;
    if (uri.host.size() > 2 && uri.host.front() == '[')
        uri.host = uri.host.substr(1, uri.host.size() - 2);
    if (url->url_port && *url->url_port) {
        const std::string port = url->url_port;
        if (!std::all_of(port.begin(), port.end(), ::isdigit) || port.size() > 5 || std::stoul(port) == 0 ||
            std::stoul(port) > 65535)
            throw bad(fmt::format("invalid port '{}'", port));
        uri.port = static_cast<unsigned>(std::stoul(port));
    }
    char transport[16] = "";
    if (url->url_params && url_param(url->url_params, "transport", transport, sizeof transport) > 0) {
        uri.transport = transport;
        std::transform(uri.transport.begin(), uri.transport.end(), uri.transport.begin(), ::tolower);
    }
    return uri;
}

std::string canonical_aor(const SipUri& uri)
{
    std::string host = uri.host;
    std::transform(host.begin(), host.end(), host.begin(), ::tolower);
    if (host.find(':') != std::string::npos)
        host = "[" + host + "]";
    return uri.user.empty() ? fmt::format("{}:{}", uri.scheme, host) : fmt::format("{}:{}@{}", uri.scheme, uri.user, host);
}

} // namespace imsp2p::sip
