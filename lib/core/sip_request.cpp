#include "core/sip_request.hpp"

#include "sip/uri.hpp"

#include <fmt/format.h>
#include <sofia-sip/msg_addr.h>

#include <netdb.h>
#include <netinet/in.h>

#include <cstring>

namespace imsp2p::core {

std::string unquote(std::string text)
{
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        text = text.substr(1, text.size() - 2);
    return text;
}

std::string param(msg_param_t const* params, const char* name)
{
    const char* value = params ? msg_params_find(params, name) : nullptr;
    return value ? unquote(value) : std::string();
}

std::string url_text(su_home_t* home, const url_t* url)
{
    const char* text = url_as_string(home, url);
    return text ? text : "";
}

std::string aor_of(su_home_t* home, const url_t* url)
{
    if (url->url_type != url_sip && url->url_type != url_sips)
        return url_text(home, url);
    sip::SipUri uri;
    uri.scheme = url->url_type == url_sips ? "sips" : "sip";
    uri.user = url->url_user ? url->url_user : "";
    uri.host = url->url_host ? url->url_host : "";
    if (uri.host.size() > 2 && uri.host.front() == '[')
        uri.host = uri.host.substr(1, uri.host.size() - 2);
    return uri.host.empty() ? std::string() : sip::canonical_aor(uri);
}

std::string source_of(nta_incoming_s* irq)
{
    std::string source;
    msg_t* msg = nta_incoming_getrequest(irq); // a reference: released below
    const su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
    char host[NI_MAXHOST] = "", port[NI_MAXSERV] = "";
    if (ai && ai->ai_addr &&
        getnameinfo(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen), host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
        const bool v6 = std::strchr(host, ':') != nullptr;
        source = fmt::format("{}:{}{}{}:{}", ai->ai_protocol == IPPROTO_TCP ? "tcp" : "udp", v6 ? "[" : "", host,
                             v6 ? "]" : "", port);
    }
    if (msg)
        msg_destroy(msg);
    return source;
}

std::string source_address(const std::string& source)
{
    const auto first = source.find(':');
    const auto last = source.rfind(':');
    if (first == std::string::npos || last == first)
        return {};
    return source.substr(first + 1, last - first - 1);
}

CredentialState read_credentials(const msg_auth_t* chain, const std::string& realm, Credentials& out)
{
    const msg_auth_t* chosen = nullptr;
    for (const msg_auth_t* au = chain; au; au = au->au_next) {
        if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0)
            continue;
        const bool ours = strcasecmp(param(au->au_params, "realm=").c_str(), realm.c_str()) == 0;
        if (!chosen || ours)
            chosen = au;
        if (ours)
            break;
    }
    if (!chosen)
        return chain ? CredentialState::unusable : CredentialState::none;
    const auto* p = chosen->au_params;
    out = {param(p, "username="), param(p, "realm="),     param(p, "nonce="), param(p, "uri="),
           param(p, "response="), param(p, "algorithm="), param(p, "cnonce="), param(p, "nc="),
           param(p, "qop="),      param(p, "auts=")};
    return out.username.empty() ? CredentialState::unusable : CredentialState::digest;
}

std::optional<hss::Record> find_by_username(hss::SubscriberStore& store, const std::string& username,
                                            const std::string& realm)
{
    auto subscriber = store.find(username);
    if (!subscriber && username.find('@') == std::string::npos)
        subscriber = store.find(username + "@" + realm);
    return subscriber;
}

} // namespace imsp2p::core
