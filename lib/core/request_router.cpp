#include "core/request_router.hpp"

#include "core/registrar.hpp"
#include "core/sip_request.hpp"
#include "sip/stack.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

namespace imsp2p::core {
namespace {

bool is_reg_event(const sip_t* sip)
{
    return sip->sip_event && sip->sip_event->o_type && strcasecmp(sip->sip_event->o_type, "reg") == 0;
}

// A request for the node itself rather than for a user behind it: no user
// part in the Request-URI (RFC 3261 §11: OPTIONS sip:node is a probe).
bool for_the_node(const sip_t* sip)
{
    const url_t* uri = sip->sip_request->rq_url;
    return !uri->url_user || !*uri->url_user;
}

} // namespace

RequestRouter::RequestRouter(sip::SipStack& stack, Registrar& registrar)
    : stack_(stack), registrar_(registrar), server_(stack, [this](nta_incoming_s* irq, const sip_s* sip) { on_request(irq, sip); })
{
}

RequestRouter::~RequestRouter() = default;

std::string RequestRouter::allow() const
{
    std::string methods = "REGISTER, OPTIONS";
    if (reg_event_)
        methods += ", SUBSCRIBE";
    if (proxy_)
        methods = "INVITE, ACK, BYE, CANCEL, PRACK, UPDATE, MESSAGE, INFO, REFER, NOTIFY, SUBSCRIBE, REGISTER, OPTIONS";
    return methods;
}

void RequestRouter::on_request(nta_incoming_s* irq, const sip_s* sip)
{
    if (admit_ && admit_(irq, sip))
        return;
    const sip_method_t method = sip->sip_request->rq_method;
    if (method == sip_method_register) {
        registrar_.handle(irq, sip);
        return;
    }
    if (method == sip_method_subscribe && is_reg_event(sip) && reg_event_) {
        reg_event_(irq, sip);
        return;
    }
    if (method == sip_method_options && (for_the_node(sip) || !proxy_)) {
        const std::string methods = allow();
        answer(irq, SIP_200_OK, SIPTAG_ALLOW_STR(methods.c_str()), SIPTAG_SUPPORTED_STR("path, gruu"),
               SIPTAG_ACCEPT_STR("application/sdp"));
        return;
    }
    if (method == sip_method_unknown && (for_the_node(sip) || !proxy_)) {
        const std::string methods = allow();
        answer(irq, SIP_501_NOT_IMPLEMENTED, SIPTAG_ALLOW_STR(methods.c_str()));
        return;
    }
    if (proxy_) {
        proxy_(irq, sip);
        return;
    }
    switch (method) {
    case sip_method_ack: // never answered
        nta_incoming_destroy(irq);
        return;
    case sip_method_cancel: // nta matches CANCELs of its own transactions itself
        answer(irq, SIP_481_NO_TRANSACTION);
        return;
    default: {
        const std::string methods = allow();
        answer(irq, SIP_405_METHOD_NOT_ALLOWED, SIPTAG_ALLOW_STR(methods.c_str()));
    }
    }
}

} // namespace imsp2p::core
