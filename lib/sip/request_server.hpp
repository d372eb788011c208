// The server side of a SipStack: every request that arrives outside a dialog
// (sofia's default leg) goes to one handler. Transactions stay stateful in
// nta: retransmitted requests are absorbed and the answer is resent by it.
#pragma once

#include <functional>

struct nta_leg_s;
struct nta_incoming_s;
struct sip_s;

namespace imsp2p::sip {

class SipStack;

class RequestServer {
public:
    // The handler owns `irq`: it answers it (nta_incoming_treply) and then
    // destroys it (nta_incoming_destroy), now or later on the event loop.
    // `sip` stays valid until then. A handler that throws has answered
    // nothing yet: the server answers 500 for it.
    using Handler = std::function<void(nta_incoming_s* irq, const sip_s* sip)>;

    // Failure(local) when the stack has a default leg already.
    RequestServer(SipStack& stack, Handler handler);
    ~RequestServer();
    RequestServer(const RequestServer&) = delete;
    RequestServer& operator=(const RequestServer&) = delete;

private:
    static int on_request(RequestServer* self, nta_leg_s* leg, nta_incoming_s* irq, const sip_s* sip);

    Handler handler_;
    nta_leg_s* leg_ = nullptr;
};

} // namespace imsp2p::sip
