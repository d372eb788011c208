// Answering side (UAS): ring, then answer after --answer-delay, reject with
// --reject CODE, or ring until the caller gives up; 488 for an offer we cannot
// take; print every call and every MESSAGE received.
#include "call/call_command.hpp"
#include "call/leg.hpp"
#include "call/precondition.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <malloc.h>
#include <csignal>
#include <map>
#include <strings.h>

namespace imsp2p::call {
namespace {

bool sendable_url(const url_t* url)
{
    return url && (url->url_type == url_sip || url->url_type == url_sips) && url->url_host && *url->url_host;
}

// A dialog we can send in-dialog requests (BYE) to: a Contact and every
// Record-Route entry a SIP or SIPS URI with a host.
bool sendable_dialog(const sip_t* sip)
{
    if (!sip || !sip->sip_contact || !sendable_url(sip->sip_contact->m_url))
        return false;
    for (const sip_record_route_t* r = sip->sip_record_route; r; r = r->r_next)
        if (!sendable_url(r->r_url))
            return false;
    return true;
}

std::atomic<int> stop_signal{0};

void on_stop_signal(int signal)
{
    stop_signal = signal;
}

} // namespace

Outcome run_answer(const CallPlan& plan, const CallOptions& options, cli::Output& out)
{
    auto ua = make_user_agent(plan, options);
    std::map<nua_handle_t*, std::unique_ptr<Leg>> legs;
    unsigned calls = 0;
    bool done = false;
    spdlog::info("listening on udp and tcp {}", ua->local()); // nua binds both transports on one port

    auto finish_leg = [&](nua_handle_t* handle) {
        auto it = legs.find(handle);
        if (it == legs.end())
            return;
        Leg& leg = *it->second;
        if (leg.answered_at && !leg.ended_at)
            leg.ended_at = Leg::Clock::now();
        if (leg.rtp)
            leg.rtp->stop();
        out.event("call", call_fields(leg), call_text(leg));
        nua_handle_bind(handle, nullptr);
        nua_handle_destroy(handle);
        legs.erase(it);
        ++calls;
        if (options.max_calls && calls >= options.max_calls) {
            done = true;
            ua->stop();
        }
    };

    auto respond_final = [&](Leg& leg, int status, const char* phrase, const std::string& warning = {}) {
        leg.status = status;
        leg.reason = phrase;
        leg.ended_by = "reject";
        leg.fail(Outcome::negative, warning.empty() ? fmt::format("rejected with {} {}", status, phrase) : warning);
        const std::string warning_header = fmt::format("399 {} \"{}\"", plan.host, warning);
        nua_respond(leg.handle, status, phrase, TAG_IF(!warning.empty(), SIPTAG_WARNING_STR(warning_header.c_str())),
                    TAG_END());
    };

    auto answer = [&](Leg& leg) {
        if (leg.status || leg.cancelled)
            return;
        // With preconditions the SDP answer went in the reliable 183 (and the
        // UPDATE's 200): the offer/answer is done, the 200 carries none.
        const bool described = leg.precondition;
        if (!described)
            leg.local_sdp = build_sdp(leg.local);
        leg.status = 200;
        leg.reason = "OK";
        leg.answered_at = Leg::Clock::now();
        nua_respond(leg.handle, SIP_200_OK, TAG_IF(!described, SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                    TAG_IF(!described, SIPTAG_PAYLOAD_STR(leg.local_sdp.c_str())), TAG_END());
        if (leg.rtp)
            leg.rtp->start(leg.remote, leg.codec, audio_source(plan, options), leg.local.rtcp_mux);
    };
    auto answer_later = [&](Leg& leg) {
        if (!options.answer)
            return;
        leg.timer = std::make_unique<LoopTimer>(*ua);
        leg.timer->start(options.answer_delay, [&answer, &leg] { answer(leg); });
    };
    // Alerting: 180 (reliable with --100rel or preconditions, when the caller
    // supports it), then the answer after --answer-delay; after a reliable
    // 180, only once it is PRACKed: sofia-sip's caller ends the session when
    // its PRACK meets a 481 because the 200 went first.
    auto ring = [&](Leg& leg, bool reliable) {
        nua_respond(leg.handle, SIP_180_RINGING, TAG_IF(reliable, SIPTAG_REQUIRE_STR("100rel")), TAG_END());
        if (!leg.provisional_at)
            leg.provisional_at = Leg::Clock::now();
        if (reliable)
            leg.answer_at_prack = leg.pracks + 1;
        else
            answer_later(leg);
    };

    ua->set_handler([&](const NuaEvent& e) {
        switch (e.event) {
        case nua_i_invite: {
            if (e.leg) { // a re-INVITE (session refresh, hold): keep the session as it is
                nua_respond(e.handle, SIP_200_OK, TAG_IF(!e.leg->local_sdp.empty(), SIPTAG_CONTENT_TYPE_STR("application/sdp")),
                            TAG_IF(!e.leg->local_sdp.empty(), SIPTAG_PAYLOAD_STR(e.leg->local_sdp.c_str())), TAG_END());
                return;
            }
            auto owned = std::make_unique<Leg>();
            Leg& leg = *owned;
            leg.incoming = true;
            leg.handle = e.handle;
            note_dialog(leg, e.sip);
            leg.identity = unknown_header(e.sip, "P-Asserted-Identity");
            if (leg.identity.empty())
                leg.identity = unknown_header(e.sip, "P-Preferred-Identity");
            legs[e.handle] = std::move(owned);
            nua_handle_bind(e.handle, &leg);
            if (!sendable_dialog(e.sip)) {
                // The dialog's remote target and route set are where its BYE
                // goes: nta refuses to create one to a bad URI (503), and nua
                // then tried again from its own callback until the stack
                // overflowed (found by the abuse barrage).
                respond_final(leg, 400, "Bad Request", "the Contact or a Record-Route is not a SIP URI with a host");
                return;
            }
            if (!options.redirect.empty()) {
                leg.status = 302;
                leg.reason = "Moved Temporarily";
                leg.ended_by = "redirect";
                leg.fail(Outcome::negative, "redirected to " + options.redirect);
                nua_respond(e.handle, SIP_302_MOVED_TEMPORARILY, SIPTAG_CONTACT_STR(options.redirect.c_str()), TAG_END());
                return;
            }
            if (const std::string error = parse_remote_sdp(payload_text(e.sip), leg.remote); !error.empty()) {
                respond_final(leg, 488, "Not Acceptable Here", error);
                return;
            }
            if (leg.remote.codecs.empty()) {
                respond_final(leg, 488, "Not Acceptable Here", "the audio stream is rejected (port 0)");
                return;
            }
            leg.codec = leg.remote.codecs.front();
            if (options.codec.size()) {
                leg.codec = {};
                for (const auto& codec : leg.remote.codecs)
                    if (strcasecmp(codec.name.c_str(), options.codec.c_str()) == 0)
                        leg.codec = codec;
                if (leg.codec.pt < 0) {
                    respond_final(leg, 488, "Not Acceptable Here", fmt::format("no {} in the offer", options.codec));
                    return;
                }
            }
            if (options.reject) {
                const char* phrase = sip_status_phrase(static_cast<int>(options.reject));
                respond_final(leg, static_cast<int>(options.reject), phrase ? phrase : "Rejected");
                return;
            }
            if (options.media != "none")
                leg.rtp = std::make_unique<RtpSession>(ua->root(), plan.host, options.rtcp_interval);
            leg.local = local_media(plan.host, leg.rtp.get(), {leg.codec});
            leg.local.telephone_event_pt = leg.remote.telephone_event_pt;
            leg.local.rtcp_mux = leg.local.rtcp_mux && leg.remote.rtcp_mux && options.rtcp_mux;
            // --100rel: a reliable 180 (RFC 3262) when the caller supports it; nua retransmits it until PRACK.
            const bool supports_100rel =
                e.sip && (sip_has_feature(e.sip->sip_supported, "100rel") || sip_has_feature(e.sip->sip_require, "100rel"));
            // --precondition and an offer with mandatory QoS lines (RFC 3312): a
            // reliable 183 with our answer (nothing reserved here yet; tell us
            // when the caller's side is, a=conf), then alerting after its UPDATE.
            leg.precondition = options.precondition && supports_100rel && wants_preconditions(leg.remote);
            if (leg.precondition) {
                leg.local.attributes = qos_attributes({false, peer_status(leg.remote).remote}, true);
                leg.local_sdp = build_sdp(leg.local);
                nua_respond(e.handle, SIP_183_SESSION_PROGRESS, SIPTAG_REQUIRE_STR("100rel, precondition"),
                            SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(leg.local_sdp.c_str()), TAG_END());
                leg.provisional_at = Leg::Clock::now();
                return;
            }
            ring(leg, (options.rel100 || options.precondition) && supports_100rel);
            return;
        }
        case nua_i_cancel:
            if (e.leg) {
                e.leg->cancelled = true;
                e.leg->ended_by = "cancel";
                e.leg->status = 487;
                e.leg->reason = "Request Terminated";
                e.leg->fail(Outcome::negative, "the caller cancelled");
                if (e.leg->timer)
                    e.leg->timer->cancel();
            }
            return;
        case nua_i_prack:
            if (e.leg && ++e.leg->pracks == e.leg->answer_at_prack) {
                e.leg->answer_at_prack = 0;
                answer_later(*e.leg);
            }
            return;
        case nua_i_update:
            if (!e.leg) {
                nua_respond(e.handle, SIP_481_NO_TRANSACTION, NUTAG_WITH_THIS(ua->nua()), TAG_END());
                return;
            }
            if (answer_update(ua->nua(), *e.leg, e) && e.leg->precondition && !e.leg->precondition_met_at &&
                peer_status(e.leg->remote).remote) {
                // Both sides reserved (ours with this answer): now alert the user.
                e.leg->precondition_met_at = Leg::Clock::now();
                ring(*e.leg, true);
            }
            return;
        case nua_i_bye:
            if (e.leg) {
                e.leg->ended_at = Leg::Clock::now();
                e.leg->ended_by = "remote";
            }
            return;
        case nua_i_state: {
            int state = nua_callstate_init;
            tl_gets(e.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
            if (state == nua_callstate_terminated && e.leg)
                finish_leg(e.handle);
            return;
        }
        case nua_i_message: {
            Leg message;
            note_dialog(message, e.sip);
            const std::string text = payload_text(e.sip);
            const std::string type = e.sip && e.sip->sip_content_type && e.sip->sip_content_type->c_type
                                         ? e.sip->sip_content_type->c_type
                                         : "";
            out.event("message", {{"call_id", message.call_id}, {"from", message.from}, {"to", message.to},
                                  {"content_type", type}, {"text", text}},
                      fmt::format("MESSAGE {} → {}: {}\n", message.from, message.to, text));
            if (!e.leg)
                nua_handle_destroy(e.handle);
            return;
        }
        default:
            return;
        }
    });

    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    LoopTimer poll(*ua);
    unsigned ticks = 0;
    std::function<void()> watch = [&] {
        if (stop_signal) {
            spdlog::info("signal {}: stopping", stop_signal.load());
            done = true;
            ua->stop();
            return;
        }
        // Every 10 s, free pages back to the system: after a burst of broken
        // requests glibc kept the memory of their ended transactions (70 MB
        // after 30,000 datagrams), so a long-lived answerer's RSS only grew.
        if (++ticks % 100 == 0)
            malloc_trim(0);
        poll.start(0.1, watch);
    };
    poll.start(0.1, watch);
    out.event("listening", {{"local", ua->local()}, {"mode", options.answer ? "answer" : options.reject ? "reject" : !options.redirect.empty() ? "redirect" : "ring"}},
              "");
    while (!done)
        ua->run();
    // Calls still in progress end here: BYE to the answered ones, 480 to the
    // ringing ones, half a second for them to leave. Not through
    // nua_shutdown: after a barrage of broken requests it aborted in
    // sofia-sip 1.12 (UserAgent::abandon), so the stack is left to the exit.
    ua->set_handler(nullptr);
    for (auto& [handle, leg] : legs) {
        if (leg->answered_at && !leg->ended_at)
            nua_bye(handle, TAG_END());
        else if (!leg->answered_at && leg->status == 0)
            nua_respond(handle, SIP_480_TEMPORARILY_UNAVAILABLE, TAG_END());
    }
    if (!legs.empty()) {
        LoopTimer linger(*ua);
        linger.start(0.5, [&] { ua->stop(); });
        ua->run();
    }
    ua->abandon();
    for (auto& [handle, leg] : legs) {
        if (leg->answered_at && !leg->ended_at)
            leg->ended_at = Leg::Clock::now();
        leg->ended_by = leg->ended_by.empty() ? "local" : leg->ended_by;
        if (leg->rtp)
            leg->rtp->stop();
        out.event("call", call_fields(*leg), call_text(*leg));
        nua_handle_bind(handle, nullptr);
        nua_handle_destroy(handle);
    }
    legs.clear();
    return Outcome::ok;
}

} // namespace imsp2p::call
