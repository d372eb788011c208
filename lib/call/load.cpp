// Load mode: --count calls to one target at --rate, at most --concurrency at
// once, signalling only (the SDP offers port 9); one summary like a SIP load
// generator's: attempts, successes, failures by status, calls/s, setup
// latency percentiles, client CPU per 1,000 calls.
#include "call/call_command.hpp"
#include "call/leg.hpp"

#include "util/histogram.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <cmath>
#include <map>

namespace imsp2p::call {
namespace {

double cpu_seconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

struct LoadCall {
    nua_handle_t* handle = nullptr;
    Leg::Clock::time_point started;
    bool answered = false;
    int auth_attempts = 0;
    std::unique_ptr<LoopTimer> hold;
};

} // namespace

Outcome run_load(const CallPlan& plan, const CallOptions& options, cli::Output& out)
{
    using Clock = Leg::Clock;
    auto ua = make_user_agent(plan, options);
    const std::string offer = build_sdp(local_media(plan.host, nullptr, supported_codecs()));
    const std::string route = route_header(plan);
    const std::string ppi = "P-Preferred-Identity: <" + plan.preferred_identity + ">";
    const unsigned concurrency = options.concurrency ? options.concurrency : 1000;

    std::map<nua_handle_t*, std::unique_ptr<LoadCall>> calls;
    std::uint64_t launched = 0, completed = 0, succeeded = 0;
    std::map<std::string, std::uint64_t> failures;
    LatencyHistogram setup;
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    LoopTimer pace(*ua);

    auto end = [&](nua_handle_t* handle, const std::string& failure) {
        auto it = calls.find(handle);
        if (it == calls.end())
            return;
        ++completed;
        if (failure.empty())
            ++succeeded;
        else
            ++failures[failure];
        nua_handle_bind(handle, nullptr);
        nua_handle_destroy(handle);
        calls.erase(it);
        if (completed >= options.count)
            ua->stop();
    };

    auto launch = [&] {
        auto call = std::make_unique<LoadCall>();
        call->handle = nua_handle(ua->nua(), nullptr, NUTAG_URL(plan.target.c_str()), SIPTAG_TO_STR(plan.target.c_str()),
                                  TAG_IF(!route.empty(), NUTAG_INITIAL_ROUTE_STR(route.c_str())), TAG_END());
        call->started = Clock::now();
        nua_handle_t* handle = call->handle;
        calls[handle] = std::move(call);
        ++launched;
        nua_invite(handle, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer.c_str()),
                   SIPTAG_HEADER_STR(ppi.c_str()), TAG_END());
    };

    ua->set_handler([&](const NuaEvent& e) {
        auto it = calls.find(e.handle);
        if (it == calls.end())
            return;
        LoadCall& call = *it->second;
        switch (e.event) {
        case nua_r_invite:
            if (e.status < 200)
                return;
            if (e.status == 401 || e.status == 407) {
                try {
                    const std::string credentials = auth_answer(plan, e.sip, call.auth_attempts++);
                    nua_authenticate(e.handle, NUTAG_AUTH(credentials.c_str()), TAG_END());
                } catch (const Failure&) {
                    end(e.handle, std::to_string(e.status));
                }
                return;
            }
            if (e.status >= 300) {
                end(e.handle, e.received ? std::to_string(e.status) : fmt::format("{} (local)", e.status));
                return;
            }
            if (call.answered)
                return;
            call.answered = true;
            setup.add(std::chrono::duration<double, std::milli>(Clock::now() - call.started).count());
            call.hold = std::make_unique<LoopTimer>(*ua);
            call.hold->start(options.duration, [handle = e.handle] { nua_bye(handle, TAG_END()); });
            return;
        case nua_r_bye:
            if (e.status >= 200)
                end(e.handle, "");
            return;
        case nua_i_bye:
            end(e.handle, "");
            return;
        case nua_i_state: {
            int state = nua_callstate_init;
            tl_gets(e.tags, NUTAG_CALLSTATE_REF(state), TAG_END());
            if (state == nua_callstate_terminated)
                end(e.handle, call.answered ? "" : "terminated");
            return;
        }
        default:
            return;
        }
    });

    // Launches due by the rate, every 2 ms, as far as --concurrency allows.
    std::function<void()> tick = [&] {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        const std::uint64_t due = options.rate > 0 ? std::min<std::uint64_t>(options.count, static_cast<std::uint64_t>(elapsed * options.rate) + 1)
                                                   : options.count;
        while (launched < due && calls.size() < concurrency)
            launch();
        if (launched < options.count)
            pace.start(0.002, tick);
    };
    tick();
    ua->run();
    pace.cancel();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    ua->set_handler(nullptr);
    for (auto& [handle, call] : calls) {
        nua_handle_destroy(handle);
        ++failures["unfinished"];
    }
    calls.clear();
    const double cpu = cpu_seconds() - cpu_start;

    const std::uint64_t failed = launched - succeeded;
    auto ms = [](double value) { return std::round(value * 1000) / 1000; };
    nlohmann::json by_status = nlohmann::json::object();
    for (const auto& [status, n] : failures)
        by_status[status] = n;
    nlohmann::json fields{
        {"target", plan.target},
        {"attempts", launched},
        {"successes", succeeded},
        {"failures", failed},
        {"failures_by_status", by_status},
        {"elapsed_s", ms(elapsed)},
        {"calls_per_s", elapsed > 0 ? std::round(static_cast<double>(completed) / elapsed * 10) / 10 : 0.0},
        {"hold_s", options.duration},
        {"setup_ms", {{"p50", ms(setup.quantile(0.5))}, {"p90", ms(setup.quantile(0.9))}, {"p99", ms(setup.quantile(0.99))},
                      {"max", ms(setup.max())}}},
        {"cpu_s", ms(cpu)},
        {"cpu_s_per_1000_calls", launched ? ms(cpu * 1000 / static_cast<double>(launched)) : 0.0},
    };
    std::string text = fmt::format("{} calls to {}: {} succeeded, {} failed in {:.2f} s ({:.1f} calls/s)\n", launched,
                                   plan.target, succeeded, failed, elapsed, fields["calls_per_s"].get<double>());
    text += fmt::format("  setup       p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", setup.quantile(0.5),
                        setup.quantile(0.9), setup.quantile(0.99), setup.max());
    text += fmt::format("  client CPU  {:.3f} s ({:.3f} s per 1,000 calls)\n", cpu,
                        fields["cpu_s_per_1000_calls"].get<double>());
    for (const auto& [status, n] : failures)
        text += fmt::format("  failed      {} × {}\n", n, status);
    out.event("load_summary", fields, text);
    if (failed)
        throw Failure(Outcome::negative, fmt::format("{} of {} calls failed", failed, launched));
    return Outcome::ok;
}

} // namespace imsp2p::call
