// The front door of a core node: takes the stack's default leg (every request
// outside a transaction nta already knows) and hands each request to the part
// of the node that serves it: REGISTER to the registrar, SUBSCRIBE to the reg
// event package to the reg event server, requests for the node itself
// (OPTIONS) answered here, everything else to the proxy.
#pragma once

#include "sip/request_server.hpp"

#include <functional>
#include <string>

struct nta_incoming_s;
struct sip_s;

namespace imsp2p::sip {
class SipStack;
}

namespace imsp2p::core {

class Registrar;

class RequestRouter {
public:
    // A handler owns irq as sip::RequestServer::Handler says.
    using Handler = std::function<void(nta_incoming_s* irq, const sip_s* sip)>;

    RequestRouter(sip::SipStack& stack, Registrar& registrar);
    ~RequestRouter();
    RequestRouter(const RequestRouter&) = delete;
    RequestRouter& operator=(const RequestRouter&) = delete;

    // SUBSCRIBE with Event: reg.
    void serve_reg_event(Handler handler) { reg_event_ = std::move(handler); }
    // Requests for users and services (not REGISTER, not for the node).
    void serve_proxy(Handler handler) { proxy_ = std::move(handler); }

    // Asked first about every request: true when it answered it (shed).
    void admit_with(std::function<bool(nta_incoming_s*& irq, const sip_s* sip)> admit) { admit_ = std::move(admit); }

private:
    void on_request(nta_incoming_s* irq, const sip_s* sip);
    std::string allow() const;

    sip::SipStack& stack_;
    Registrar& registrar_;
    Handler reg_event_;
    Handler proxy_;
    std::function<bool(nta_incoming_s*& irq, const sip_s* sip)> admit_;
    sip::RequestServer server_; // last: requests arrive once everything above exists
};

} // namespace imsp2p::core
