// Originating side: INVITE with an SDP offer, 18x, 200 → ACK, hold, BYE;
// CANCEL on --ring-timeout; Digest challenges; the call's result.
#include "call/call_command.hpp"
#include "call/leg.hpp"
#include "call/precondition.hpp"

#include "util/random.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sofia-sip/url.h>

#include <algorithm>
#include <cstring>
#include <strings.h>

namespace imsp2p::call {
namespace {

std::vector<Codec> offered_codecs(const CallOptions& options)
{
    std::vector<Codec> codecs;
    for (const auto& codec : supported_codecs())
        if (options.codec.empty() || strcasecmp(options.codec.c_str(), codec.name.c_str()) == 0)
            codecs.push_back(codec);
    return codecs;
}

unsigned long long session_id()
{
    const std::string bytes = random_bytes(6);
    unsigned long long id = 0;
    for (unsigned char byte : bytes)
        id = id << 8 | byte;
    return id;
}

} // namespace

LocalMedia local_media(const std::string& host, const RtpSession* rtp, std::vector<Codec> codecs)
{
    LocalMedia local;
    local.address = host;
    local.port = rtp ? rtp->port() : 9;
    local.rtcp_port = rtp ? rtp->rtcp_port() : 0;
    local.rtcp_mux = local.rtcp_port != 0; // offered; an answer keeps it only when the offer had it
    local.codecs = std::move(codecs);
    local.session_id = session_id();
    return local;
}

Outcome run_originate(const CallPlan& plan, const CallOptions& options, cli::Output& out)
{
    auto ua = make_user_agent(plan, options);
    Leg leg;
    leg.from = plan.impu;
    leg.to = plan.target;
    leg.identity = "<" + plan.preferred_identity + ">";
    if (options.media != "none")
        leg.rtp = std::make_unique<RtpSession>(ua->root(), plan.host, options.rtcp_interval);
    leg.local = local_media(plan.host, leg.rtp.get(), offered_codecs(options));
    leg.local.rtcp_mux = leg.local.rtcp_mux && options.rtcp_mux;
    // --precondition: nothing reserved yet on either side (RFC 3312 5).
    leg.precondition = options.precondition;
    if (leg.precondition)
        leg.local.attributes = qos_attributes({false, false}, false);
    leg.local_sdp = build_sdp(leg.local);
    const std::string offer = leg.local_sdp;
    const char* require = options.precondition ? "100rel, precondition" : options.rel100 ? "100rel" : nullptr;
    const std::string route = route_header(plan);
    const std::string ppi = "P-Preferred-Identity: <" + plan.preferred_identity + ">";

    LoopTimer no_answer(*ua), ring(*ua), hold(*ua), guard(*ua), update(*ua);
    bool any_answer = false;

    auto finish = [&] {
        if (leg.finished)
            return;
        leg.finished = true;
        if (!leg.ended_at && leg.answered_at)
            leg.ended_at = Leg::Clock::now();
        if (leg.rtp)
            leg.rtp->stop();
        no_answer.cancel();
        ring.cancel();
        hold.cancel();
        guard.cancel();
        update.cancel();
        ua->stop();
    };
    auto hang_up = [&](const char* why) {
        spdlog::debug("hanging up: {}", why);
        if (leg.rtp)
            leg.rtp->stop();
        leg.ended_at = Leg::Clock::now();
        if (leg.ended_by.empty())
            leg.ended_by = "local";
        nua_bye(leg.handle, TAG_END());
        guard.start(std::max(options.timeout, 1.0) + 1, [&] {
            spdlog::warn("no answer to BYE");
            finish();
        });
    };

    std::vector<nua_handle_t*> done_handles; // handles of redirected INVITEs, destroyed at the end
    std::string request_uri = plan.target; // where the current INVITE goes (a redirection's Contact)
    AuthState own_auth;
    auto invite = [&](const std::string& uri, const std::string& authorization = {}) {
        request_uri = uri;
        leg.handle = nua_handle(ua->nua(), &leg, NUTAG_URL(uri.c_str()), SIPTAG_TO_STR(plan.target.c_str()),
                                TAG_IF(!route.empty(), NUTAG_INITIAL_ROUTE_STR(route.c_str())),
                                // nua's restarts: its own 302/305 redirections and a Digest answer
                                NUTAG_RETRY_COUNT(options.max_redirects + 2), TAG_END());
        nua_invite(leg.handle, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer.c_str()),
                   SIPTAG_HEADER_STR(ppi.c_str()), TAG_IF(!authorization.empty(), SIPTAG_HEADER_STR(authorization.c_str())),
                   TAG_IF(require, SIPTAG_REQUIRE_STR(require)), TAG_END());
    };
    // A 3xx (RFC 3261 8.1.3.4) is followed to its first Contact, To unchanged,
    // at most --max-redirects times and never to a URI already tried. nua
    // follows 302 and 305 itself (a new INVITE on the same handle, reported
    // as 100 "Redirected"); the other 3xx get a new handle here. Returns why
    // a redirection must not be followed, empty when it may.
    auto redirect_refusal = [&](const sip_t* response, std::string& contact) {
        if (response && response->sip_contact) {
            su_home_t home[1] = {SU_HOME_INIT(home)};
            if (const char* text = url_as_string(home, response->sip_contact->m_url))
                contact = text;
            su_home_deinit(home);
        }
        const int status = response && response->sip_status ? response->sip_status->st_status : 0;
        const char* phrase = response && response->sip_status ? response->sip_status->st_phrase : "";
        std::string why;
        if (contact.empty())
            why = "no Contact to follow";
        else if (leg.redirects.size() >= options.max_redirects)
            why = fmt::format("not followed: --max-redirects {}", options.max_redirects);
        else if (contact == plan.target || std::find(leg.redirects.begin(), leg.redirects.end(), contact) != leg.redirects.end())
            why = "a redirection loop";
        if (!why.empty())
            leg.fail(Outcome::negative, fmt::format("redirected ({} {}) to {}: {}", status, phrase ? phrase : "",
                                                    contact.empty() ? "nowhere" : contact, why));
        else
            leg.redirects.push_back(contact);
        return !why.empty();
    };
    auto follow_redirect = [&](const NuaEvent& e) {
        std::string contact;
        if (redirect_refusal(e.sip, contact))
            return false;
        spdlog::info("{} {}: following the redirection to {}", e.status, e.phrase ? e.phrase : "", contact);
        done_handles.push_back(leg.handle);
        invite(contact);
        return true;
    };

    ua->set_handler([&](const NuaEvent& e) {
        if (e.handle != leg.handle)
            return;
        note_dialog(leg, e.sip);
        switch (e.event) {
        case nua_r_invite:
            if (e.received)
                any_answer = true;
            if (e.status == 100 && e.phrase && std::strncmp(e.phrase, "Redirected", 10) == 0) {
                // nua followed a 302/305 already: one that should not have been is cancelled.
                std::string contact;
                if (redirect_refusal(e.sip, contact)) {
                    leg.status = e.sip && e.sip->sip_status ? e.sip->sip_status->st_status : 302;
                    leg.reason = e.sip && e.sip->sip_status && e.sip->sip_status->st_phrase ? e.sip->sip_status->st_phrase : "";
                    leg.cancelled = true;
                    nua_cancel(leg.handle, TAG_END());
                } else {
                    spdlog::info("{}: {}", e.phrase, contact);
                }
                return;
            }
            if (e.status < 200) {
                if (e.status > 100 && !leg.provisional_at)
                    leg.provisional_at = Leg::Clock::now();
                // An early answer (a reliable 183 with SDP): the precondition flow goes on after its PRACK.
                if (e.status > 100 && leg.precondition && !leg.update_sent) {
                    RemoteMedia early;
                    if (parse_remote_sdp(payload_text(e.sip), early).empty() && wants_preconditions(early) &&
                        !early.codecs.empty()) {
                        leg.remote = early;
                        leg.codec = early.codecs.front();
                        leg.local.codecs = {leg.codec}; // what our UPDATE offers
                    }
                }
                return;
            }
            if (e.status == 401 || e.status == 407) {
                try {
                    // AKA or SHA-256: a new INVITE carrying our own answer.
                    if (const auto authorization = own_authorization(plan, e.sip, "INVITE", request_uri, own_auth)) {
                        ++leg.auth_attempts;
                        done_handles.push_back(leg.handle);
                        invite(request_uri, *authorization);
                        return;
                    }
                    const std::string credentials = auth_answer(plan, e.sip, leg.auth_attempts++);
                    nua_authenticate(leg.handle, NUTAG_AUTH(credentials.c_str()), TAG_END());
                    return;
                } catch (const Failure& failure) {
                    leg.status = e.status;
                    leg.reason = e.phrase ? e.phrase : "";
                    leg.fail(Outcome::auth, failure.what());
                    finish();
                    return;
                }
            }
            if (e.status >= 300 && e.status < 400 && !leg.cancelled && e.received && follow_redirect(e))
                return;
            if (e.status >= 300) {
                if (!leg.status) {
                    leg.status = e.status;
                    leg.reason = e.phrase ? e.phrase : "";
                }
                if (leg.cancelled)
                    leg.fail(Outcome::no_answer, fmt::format("not answered within --ring-timeout {} s (CANCEL sent)", options.ring_timeout));
                else if (!e.received && e.status < 900)
                    leg.fail(Outcome::no_answer, no_answer_text(plan, e.status, e.phrase ? e.phrase : ""));
                else
                    leg.fail(outcome_of_status(e.status), fmt::format("call rejected: {} {}", e.status, e.phrase ? e.phrase : ""));
                leg.ended_by = leg.cancelled ? "cancel" : "reject";
                finish();
                return;
            }
            // 2xx: nua has sent the ACK (NUTAG_AUTOACK).
            if (leg.answered_at)
                return;
            if (leg.cancelled && leg.outcome != Outcome::ok) { // a redirection we refused, answered before our CANCEL
                hang_up("refused redirection answered");
                return;
            }
            leg.answered_at = Leg::Clock::now();
            leg.status = e.status;
            leg.reason = e.phrase ? e.phrase : "";
            no_answer.cancel();
            ring.cancel();
            // The answer is in the 200, or came earlier (a reliable 18x, an UPDATE's 200).
            if (const std::string body = payload_text(e.sip); !body.empty() || leg.remote.codecs.empty()) {
                RemoteMedia answer;
                if (const std::string error = parse_remote_sdp(body, answer); !error.empty()) {
                    leg.fail(Outcome::negative, "unusable SDP answer: " + error);
                    hang_up("bad SDP answer");
                    return;
                }
                leg.remote = answer;
            }
            if (!leg.remote.codecs.empty()) {
                leg.codec = leg.remote.codecs.front();
                leg.local.codecs = {leg.codec}; // what a later offer of ours (UPDATE) carries
                leg.local.rtcp_mux = leg.local.rtcp_mux && leg.remote.rtcp_mux;
            }
            if (leg.precondition && !leg.precondition_met_at)
                leg.fail(Outcome::negative, "answered before the QoS preconditions were met (no UPDATE exchange)");
            if (leg.rtp && !leg.remote.codecs.empty())
                leg.rtp->start(leg.remote, leg.codec, audio_source(plan, options), leg.local.rtcp_mux);
            hold.start(options.duration, [&] { hang_up("--duration elapsed"); });
            if (options.update)
                update.start(options.duration / 2, [&] { send_update(leg, {}); });
            return;
        case nua_i_bye:
            if (!leg.ended_at)
                leg.ended_at = Leg::Clock::now();
            if (leg.ended_by.empty())
                leg.ended_by = "remote";
            finish();
            return;
        case nua_i_invite: // a re-INVITE from the far end: the session stays as it is
            nua_respond(leg.handle, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                        SIPTAG_PAYLOAD_STR(leg.local_sdp.c_str()), TAG_END());
            return;
        case nua_r_prack:
            if (e.status >= 200 && e.status < 300) {
                ++leg.pracks;
                // RFC 3312: our resources are reserved (at once: see precondition.hpp): say so in an UPDATE.
                if (leg.precondition && !leg.update_sent && !leg.remote.codecs.empty())
                    send_update(leg, qos_attributes({true, peer_status(leg.remote).remote}, false));
            }
            return;
        case nua_r_update:
            if (e.status < 200)
                return;
            if (e.status >= 300) {
                leg.fail(outcome_of_status(e.status), fmt::format("UPDATE answered {} {}", e.status, e.phrase ? e.phrase : ""));
                if (leg.precondition && !leg.answered_at) { // the preconditions cannot be met: give up the call
                    leg.cancelled = true;
                    nua_cancel(leg.handle, TAG_END());
                }
                return;
            }
            ++leg.updates;
            if (RemoteMedia answer; parse_remote_sdp(payload_text(e.sip), answer).empty()) {
                leg.remote = answer;
                if (leg.precondition && !leg.precondition_met_at) {
                    const QosStatus status = peer_status(answer);
                    if (status.local && status.remote)
                        leg.precondition_met_at = Leg::Clock::now();
                }
            }
            return;
        case nua_i_update:
            answer_update(ua->nua(), leg, e);
            return;
        case nua_r_bye:
            if (e.status >= 200)
                finish();
            return;
        case nua_i_state: {
            int state = nua_callstate_init;
            tl_gets(e.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
            if (state == nua_callstate_terminated) {
                // nua ended the session itself (e.g. a 481 to our PRACK): not a clean end.
                const std::string why = fmt::format("{} {}", e.status, e.phrase ? e.phrase : "");
                if (leg.answered_at && leg.ended_by.empty()) {
                    leg.ended_by = "remote";
                    leg.fail(Outcome::negative, "the session ended: " + why);
                } else if (!leg.answered_at && !leg.status && !leg.cancelled) {
                    leg.fail(Outcome::negative, "the call ended before a final answer: " + why);
                }
                finish();
            }
            return;
        }
        default:
            return;
        }
    });

    leg.invite_at = Leg::Clock::now();
    invite(plan.target);
    no_answer.start(options.timeout, [&] {
        if (any_answer)
            return;
        leg.fail(Outcome::no_answer, no_answer_within(plan, options.timeout));
        finish();
    });
    ring.start(options.ring_timeout, [&] {
        if (leg.answered_at)
            return;
        leg.cancelled = true;
        nua_cancel(leg.handle, TAG_END());
        guard.start(std::max(options.timeout, 1.0) + 1, [&] {
            leg.fail(Outcome::no_answer, fmt::format("not answered within --ring-timeout {} s (no answer to CANCEL)",
                                                     options.ring_timeout));
            finish();
        });
    });
    ua->run();
    ua->set_handler(nullptr);
    for (nua_handle_t* handle : done_handles)
        nua_handle_destroy(handle);
    nua_handle_destroy(leg.handle);
    leg.handle = nullptr;

    out.event("call", call_fields(leg), call_text(leg));
    if (leg.outcome != Outcome::ok)
        throw Failure(leg.outcome, leg.error);
    return Outcome::ok;
}

} // namespace imsp2p::call
