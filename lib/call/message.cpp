// Pager-mode MESSAGE (RFC 3428): one request, its answer, Digest if challenged.
#include "call/call_command.hpp"
#include "call/leg.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <vector>

namespace imsp2p::call {

Outcome run_message(const CallPlan& plan, const CallOptions& options, cli::Output& out)
{
    auto ua = make_user_agent(plan, options);
    const std::string route = route_header(plan);
    const std::string ppi = "P-Preferred-Identity: <" + plan.preferred_identity + ">";
    Leg state; // for call id and failure bookkeeping
    int status = 0;
    std::string reason;
    LoopTimer no_answer(*ua);
    const auto sent_at = std::chrono::steady_clock::now();
    nua_handle_t* handle = nullptr;
    std::vector<nua_handle_t*> done_handles; // of MESSAGEs answered by a challenge we answered ourselves
    AuthState own_auth;
    auto send = [&](const std::string& authorization = {}) {
        if (handle)
            done_handles.push_back(handle);
        handle = nua_handle(ua->nua(), nullptr, NUTAG_URL(plan.target.c_str()), SIPTAG_TO_STR(plan.target.c_str()),
                            TAG_IF(!route.empty(), NUTAG_INITIAL_ROUTE_STR(route.c_str())), TAG_END());
        nua_message(handle, SIPTAG_CONTENT_TYPE_STR("text/plain;charset=UTF-8"), SIPTAG_PAYLOAD_STR(options.message.c_str()),
                    SIPTAG_HEADER_STR(ppi.c_str()), TAG_IF(!authorization.empty(), SIPTAG_HEADER_STR(authorization.c_str())),
                    TAG_END());
    };
    ua->set_handler([&](const NuaEvent& e) {
        if (e.handle != handle || e.event != nua_r_message || e.status < 200)
            return;
        note_dialog(state, e.sip);
        status = e.status;
        reason = e.phrase ? e.phrase : "";
        if (e.status == 401 || e.status == 407) {
            try {
                if (const auto authorization = own_authorization(plan, e.sip, "MESSAGE", plan.target, own_auth)) {
                    ++state.auth_attempts;
                    send(*authorization);
                    return;
                }
                const std::string credentials = auth_answer(plan, e.sip, state.auth_attempts++);
                nua_authenticate(handle, NUTAG_AUTH(credentials.c_str()), TAG_END());
                return;
            } catch (const Failure& failure) {
                state.fail(Outcome::auth, failure.what());
            }
        } else if (e.status >= 300) {
            if (!e.received && e.status < 900)
                state.fail(Outcome::no_answer, no_answer_text(plan, e.status, reason.c_str()));
            else
                state.fail(outcome_of_status(e.status), fmt::format("MESSAGE rejected: {} {}", e.status, reason));
        }
        no_answer.cancel();
        ua->stop();
    });
    send();
    no_answer.start(options.timeout, [&] {
        state.fail(Outcome::no_answer, no_answer_within(plan, options.timeout));
        ua->stop();
    });
    ua->run();
    ua->set_handler(nullptr);
    for (nua_handle_t* done : done_handles)
        nua_handle_destroy(done);
    nua_handle_destroy(handle);

    const double latency = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_at).count();
    nlohmann::json fields{
        {"call_id", state.call_id},
        {"from", plan.impu},
        {"to", plan.target},
        {"status", status ? nlohmann::json(status) : nlohmann::json()},
        {"reason", reason.empty() ? nlohmann::json() : nlohmann::json(reason)},
        {"outcome", outcome_name(state.outcome)},
        {"error", state.error.empty() ? nlohmann::json() : nlohmann::json(state.error)},
        {"latency_ms", std::round(latency * 1000) / 1000},
        {"length", options.message.size()},
    };
    out.event("message_sent", fields,
              state.outcome == Outcome::ok
                  ? fmt::format("MESSAGE {} → {}: {} {} in {:.1f} ms\n", plan.impu, plan.target, status, reason, latency)
                  : "");
    if (state.outcome != Outcome::ok)
        throw Failure(state.outcome, state.error);
    return Outcome::ok;
}

} // namespace imsp2p::call
