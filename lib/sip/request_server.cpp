#include "sip/request_server.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"

#include <spdlog/spdlog.h>

namespace imsp2p::sip {

RequestServer::RequestServer(SipStack& stack, Handler handler) : handler_(std::move(handler))
{
    // Without a URL and without a dialog, the leg is the agent's default one.
    leg_ = nta_leg_tcreate(stack.agent(), &RequestServer::on_request, this, NTATAG_NO_DIALOG(1), TAG_END());
    if (!leg_)
        throw Failure(Outcome::local, "cannot serve SIP requests: the SIP stack has a default handler already");
}

RequestServer::~RequestServer()
{
    nta_leg_destroy(leg_);
}

int RequestServer::on_request(RequestServer* self, nta_leg_s*, nta_incoming_s* irq, const sip_s* sip)
{
    try {
        self->handler_(irq, sip);
    } catch (const std::exception& error) {
        spdlog::error("cannot handle a {} request: {}", nta_incoming_method_name(irq), error.what());
        nta_incoming_treply(irq, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
        nta_incoming_destroy(irq);
    }
    // 0: the handler answers; nta neither answers nor destroys the transaction.
    return 0;
}

} // namespace imsp2p::sip
