// Small helpers the core node's request handlers share: answering and ending
// a server transaction, reading parameters, and naming a request's AOR and
// sender. All work on sofia-sip's parsed messages.
#pragma once

#include "core/authenticator.hpp"
#include "sip/sofia.hpp"

#include <optional>
#include <string>

namespace imsp2p::core {

// Answers a transaction and ends it; a no-op once answered (irq is null then).
template <typename... Tags>
void answer(nta_incoming_s*& irq, int status, const char* phrase, Tags... tags)
{
    if (!irq)
        return;
    nta_incoming_treply(irq, status, phrase, tags..., TAG_END());
    nta_incoming_destroy(irq);
    irq = nullptr;
}

// A scratch allocator for sofia's string conversions, freed at scope end.
struct Home {
    su_home_t home[1] = {SU_HOME_INIT(home)};
    Home() = default;
    Home(const Home&) = delete;
    Home& operator=(const Home&) = delete;
    ~Home() { su_home_deinit(home); }
};

std::string unquote(std::string text);
// The value of `name=` (give the '='), unquoted; empty when absent.
std::string param(msg_param_t const* params, const char* name);
std::string url_text(su_home_t* home, const url_t* url);
// The AOR a URI names: canonical for sip:/sips: (hss::impu_key's form), the
// URI text for others (tel:); empty for a sip: URI without a host.
std::string aor_of(su_home_t* home, const url_t* url);
enum class CredentialState { none, digest, unusable };
// The Digest credentials for `realm` among an Authorization or
// Proxy-Authorization chain (or else the first Digest ones).
CredentialState read_credentials(const msg_auth_t* chain, const std::string& realm, Credentials& out);
// The subscriber a Digest username names; plain RFC 3261 clients (sipsak)
// send the user part only, so USER is also tried as USER@realm.
std::optional<hss::Record> find_by_username(hss::SubscriberStore& store, const std::string& username,
                                            const std::string& realm);
// transport:address:port of the request's sender.
std::string source_of(nta_incoming_s* irq);
// The address of a transport:address:port (brackets of IPv6 kept).
std::string source_address(const std::string& source);

} // namespace imsp2p::core
