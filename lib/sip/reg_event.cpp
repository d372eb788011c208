#include "sip/reg_event.hpp"

#include "sip/reginfo.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstring>

namespace imsp2p::sip {
namespace {

// sofia's typed context pointers are declared once for the whole library
// (sip/sofia.hpp); this class passes itself through them.
RegEventSubscription* self_of(void* magic)
{
    return static_cast<RegEventSubscription*>(magic);
}

int response_cb(nta_outgoing_magic_t* magic, nta_outgoing_t*, const sip_t* sip)
{
    return self_of(reinterpret_cast<void*>(magic))->on_subscribe_response(sip);
}

int request_cb(nta_leg_magic_t* magic, nta_leg_t*, nta_incoming_t* irq, const sip_t* sip)
{
    return self_of(reinterpret_cast<void*>(magic))->on_request(irq, sip);
}

bool same_uri(const std::string& a, const std::string& b)
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const url_t* ua = url_make(home, a.c_str());
    const url_t* ub = url_make(home, b.c_str());
    const bool same = ua && ub && url_cmp(ua, ub) == 0;
    su_home_deinit(home);
    return same;
}

} // namespace

RegEventSubscription::RegEventSubscription(SipStack& stack, RegEventParams params, OnNotice on_notice, OnFailure on_failure)
    : stack_(stack), params_(std::move(params)), on_notice_(std::move(on_notice)), on_failure_(std::move(on_failure)),
      refresh_(std::make_unique<Timer>(stack))
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    call_id_ = sip_call_id_create(home, nullptr)->i_id;
    from_ = fmt::format("<{}>;tag={}", params_.impu, nta_agent_newtag(home, "%s", stack_.agent()));
    su_home_deinit(home);
    leg_ = nta_leg_tcreate(stack_.agent(), &request_cb, reinterpret_cast<nta_leg_magic_t*>(this), NTATAG_NO_DIALOG(1),
                           TAG_END());
    if (!leg_)
        throw Failure(Outcome::local, "cannot receive NOTIFY: the SIP stack already has a request handler");
}

RegEventSubscription::~RegEventSubscription()
{
    if (orq_)
        nta_outgoing_destroy(orq_);
    if (leg_)
        nta_leg_destroy(leg_);
}

void RegEventSubscription::start()
{
    send(params_.expires);
}

void RegEventSubscription::stop(std::function<void()> done)
{
    stopping_ = true;
    stopped_ = std::move(done);
    refresh_->cancel();
    send(0);
}

void RegEventSubscription::send(unsigned expires)
{
    if (orq_) {
        nta_outgoing_destroy(orq_);
        orq_ = nullptr;
    }
    std::string route;
    for (const auto& hop : params_.service_route)
        route += (route.empty() ? "" : ", ") + hop;
    const std::string to = fmt::format("<{}>{}", params_.impu, to_tag_.empty() ? "" : ";tag=" + to_tag_);
    const std::string contact = "<" + params_.contact + ">";
    const std::string expires_text = std::to_string(expires);

    msg_t* msg = nta_msg_create(stack_.agent(), 0);
    sip_t* sip = sip_object(msg);
    su_home_t* mhome = msg_home(msg);
    const bool built =
        msg &&
        sip_header_insert(msg, sip, reinterpret_cast<sip_header_t*>(sip_request_create(
                                        mhome, SIP_METHOD_SUBSCRIBE, URL_STRING_MAKE(params_.impu.c_str()), nullptr))) == 0 &&
        sip_add_tl(msg, sip, SIPTAG_FROM_STR(from_.c_str()), SIPTAG_TO_STR(to.c_str()), SIPTAG_CALL_ID_STR(call_id_.c_str()),
                   SIPTAG_CSEQ(sip_cseq_create(mhome, cseq_++, SIP_METHOD_SUBSCRIBE)), SIPTAG_MAX_FORWARDS_STR("70"),
                   TAG_IF(!route.empty(), SIPTAG_ROUTE_STR(route.c_str())), SIPTAG_CONTACT_STR(contact.c_str()),
                   SIPTAG_EVENT_STR("reg"), SIPTAG_ACCEPT_STR("application/reginfo+xml"),
                   SIPTAG_EXPIRES_STR(expires_text.c_str()),
                   TAG_IF(!params_.user_agent.empty(), SIPTAG_USER_AGENT_STR(params_.user_agent.c_str())), TAG_END()) == 0;
    if (built)
        orq_ = nta_outgoing_mcreate(stack_.agent(), &response_cb, reinterpret_cast<nta_outgoing_magic_t*>(this),
                                    params_.next_hop.empty() ? nullptr : URL_STRING_MAKE(params_.next_hop.c_str()), msg,
                                    TAG_END());
    if (!orq_) {
        if (msg)
            msg_destroy(msg);
        on_failure_(Outcome::local, fmt::format("cannot send SUBSCRIBE for {}", params_.impu));
    }
}

int RegEventSubscription::on_subscribe_response(const sip_s* sip)
{
    const int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq_);
    if (status < 200)
        return 0;
    if (sip && sip->sip_to && sip->sip_to->a_tag && to_tag_.empty())
        to_tag_ = sip->sip_to->a_tag;
    const unsigned granted = sip && sip->sip_expires ? static_cast<unsigned>(sip->sip_expires->ex_delta) : params_.expires;
    const std::string phrase = sip && sip->sip_status && sip->sip_status->st_phrase ? sip->sip_status->st_phrase : "";
    nta_outgoing_destroy(orq_); // `sip` is not used below this line
    orq_ = nullptr;

    if (stopping_) {
        if (stopped_)
            stopped_();
        return 0;
    }
    if (status >= 300) {
        const Outcome outcome = !sip || nta_sip_is_internal(sip) ? Outcome::no_answer : Outcome::negative;
        on_failure_(outcome, fmt::format("reg event subscription for {} failed: {} {}", params_.impu, status, phrase));
        return 0;
    }
    spdlog::info("subscribed to the registration state of {} for {} s", params_.impu, granted);
    // Refresh like a registration: at half time, at most 600 s before expiry.
    const unsigned delay = granted > 1200 ? granted - 600 : std::max(1u, granted / 2);
    refresh_->start(delay * 1000, [this] { send(params_.expires); });
    return 0;
}

int RegEventSubscription::on_request(nta_incoming_s*, const sip_s* sip)
{
    if (!sip || !sip->sip_request || sip->sip_request->rq_method != sip_method_notify)
        return 405;
    if (!sip->sip_call_id || call_id_ != sip->sip_call_id->i_id)
        return 481; // not our subscription
    if (to_tag_.empty() && sip->sip_from && sip->sip_from->a_tag)
        to_tag_ = sip->sip_from->a_tag; // NOTIFY overtook the 200 OK: learn the dialog from it

    RegEventNotice notice;
    notice.contact_state = "unknown";
    std::string reason;
    if (sip->sip_subscription_state && sip->sip_subscription_state->ss_reason)
        reason = sip->sip_subscription_state->ss_reason;
    const bool subscription_over = sip->sip_subscription_state && sip->sip_subscription_state->ss_substate &&
                                   std::strcmp(sip->sip_subscription_state->ss_substate, "terminated") == 0;

    if (sip->sip_payload && sip->sip_payload->pl_len > 0) {
        std::string error;
        const auto info = parse_reginfo(std::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len), error);
        if (!info) {
            spdlog::warn("NOTIFY for {} with an unreadable body: {}", params_.impu, error);
            return 400;
        }
        if (info->version < last_version_ && last_version_ > 0)
            return 200; // an old document, out of order
        last_version_ = info->version;
        notice.version = info->version;
        for (const auto& registration : info->registrations) {
            if (!same_uri(registration.aor, params_.impu))
                continue;
            for (const auto& contact : registration.contacts) {
                if (!same_uri(contact.uri, params_.contact))
                    continue;
                notice.contact_state = contact.state;
                if (contact.state == "terminated") {
                    notice.deregistered = true;
                    notice.reason = contact.event;
                }
            }
            if (registration.state == "terminated" && !notice.deregistered) {
                notice.deregistered = true;
                notice.reason = "registration terminated";
            }
        }
    }
    if (subscription_over && notice.reason.empty())
        notice.reason = reason.empty() ? "subscription terminated" : reason;
    if (subscription_over)
        refresh_->cancel();
    on_notice_(notice);
    return 200;
}

} // namespace imsp2p::sip
