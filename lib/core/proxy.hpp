// The stateful proxy of a core node (RFC 3261 §16; the S-CSCF's routing of
// TS 24.229 §5.4.3): every request that is not a REGISTER, not a reg event
// SUBSCRIBE and not for the node itself.
//
// Routing, in order: a top Route naming this node is removed (loose routing,
// RFC 3261 §16.4); with Routes left, the request follows them; else a
// Request-URI in the home domain is resolved in the location service (the
// binding registered last wins; its Path becomes the Route) — 404 for an
// identity no subscriber owns, 480 for one with no binding; any other
// Request-URI (a contact, another domain) is forwarded as it is.
// Dialog-creating requests get a Record-Route of this node, so that the
// dialog's later requests come back through a working node.
//
// Who may originate: a request from a home-domain user that opens a dialog
// or stands alone passes when it comes from the IP address a binding of that
// user was registered from (the UE, or the P-CSCF in front of it: TS 33.203's
// IPsec association stands behind that address). From anywhere else it is
// challenged (407, Digest or Digest AKA as the subscriber's REGISTER is) and
// passes with the right answer, if the user is registered; wrong answers,
// identities no subscriber owns and unregistered users get 403. Requests from
// other domains (a peering proxy such as Kamailio) pass.
// Requests for a peer domain (ProxyConfig::peers) go to that domain's proxy.
#pragma once

#include "core/authenticator.hpp"
#include "core/location.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct nta_incoming_s;
struct nta_outgoing_s;
struct sip_s;
struct msg_s;

namespace imsp2p::hss {
class SubscriberStore;
}
namespace imsp2p::sip {
class SipStack;
}

namespace imsp2p::core {

struct ProxyConfig {
    std::string domain;                 // the home domain
    std::map<std::string, std::string> peers; // other domain (lower case) → the next hop for it (a SIP URI)
    std::size_t max_transactions = 100'000; // forwarded and unanswered; beyond: 503
    AuthConfig auth;                    // challenges of originating requests (realm: the home domain)
};

struct ProxyEvent {
    std::string method;
    std::string target;   // the AOR or URI routed to
    std::string next_hop; // where the request went; empty when answered here
    std::string source;   // transport:address:port of the sender
    int status = 0;       // the final status sent upstream
};

struct ProxyStats {
    std::uint64_t forwarded = 0;
    std::uint64_t answered_locally = 0; // 403, 404, 407, 480, 483, 503 from this node
    std::uint64_t challenged = 0;       // of which 407
};

class Proxy {
public:
    using Events = std::function<void(const ProxyEvent&)>;

    Proxy(sip::SipStack& stack, hss::SubscriberStore& store, LocationService& location, ProxyConfig config,
          Events events = {});
    ~Proxy();
    Proxy(const Proxy&) = delete;
    Proxy& operator=(const Proxy&) = delete;

    // Owns irq as sip::RequestServer::Handler says.
    void handle(nta_incoming_s* irq, const sip_s* sip);

    const ProxyStats& stats() const { return stats_; }
    std::size_t in_flight() const;

    struct Transaction; // public for sofia's C callbacks
    void on_response(Transaction* t, nta_outgoing_s* orq, const sip_s* sip);

private:
    void check_origin(const std::shared_ptr<Transaction>& t, const std::string& from);
    void authorise(const std::shared_ptr<Transaction>& t, const std::string& from, bool registered);
    void route(const std::shared_ptr<Transaction>& t);
    void resolve(const std::shared_ptr<Transaction>& t, std::vector<std::string> aors, std::size_t next, bool known,
                 bool again = false);
    // request_uri: the new Request-URI (empty: unchanged); path: Routes to
    // push; via: the next hop when it is neither a Route nor the Request-URI.
    void forward(const std::shared_ptr<Transaction>& t, const std::string& request_uri, const std::vector<std::string>& path,
                 const std::string& via = {});
    void finish(Transaction& t, int status, const char* phrase);
    void challenge(Transaction& t, const std::vector<std::string>& challenges);
    bool is_home(const std::string& host) const;
    bool names_this_node(const void* url) const;
    void record_route(msg_s* msg, sip_s* sip, bool in_tls, bool out_tls) const;

    sip::SipStack& stack_;
    hss::SubscriberStore& store_;
    LocationService& location_;
    ProxyConfig config_;
    Authenticator auth_;
    Events events_;
    std::string record_route_;
    ProxyStats stats_;
    // Forwarded and not yet answered, by address: sofia's callbacks carry raw pointers.
    std::map<Transaction*, std::shared_ptr<Transaction>> transactions_;
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace imsp2p::core
