// Load mode: calls at --rate, at most --concurrency at once, for --count calls
// or --run-time seconds, signalling only (the SDP offers port 9); callers
// (and callees) the rows of the subscriber file, or one caller and the
// target. One summary like a SIP load generator's: attempts, successes,
// failures by status, calls/s, setup latency percentiles, retransmissions,
// client CPU per 1,000 calls; with --stats-interval a load_stats line every
// interval (JSON, or CSV in text mode) for long runs.
#include "call/call_command.hpp"
#include "call/leg.hpp"
#include "call/nta_stats.hpp"

#include "util/histogram.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <cmath>
#include <limits>
#include <map>
#include <unordered_map>

namespace imsp2p::call {
namespace {

using Clock = Leg::Clock;

double cpu_seconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
           static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double seconds_since(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

double rounded(double value, double step)
{
    return std::round(value / step) * step;
}

struct LoadCall {
    nua_handle_t* handle = nullptr;
    const Caller* caller = nullptr;
    Clock::time_point started;
    bool answered = false;
    int auth_attempts = 0;
    std::unique_ptr<LoopTimer> hold;
};

// Who calls whom: the plan's caller and target, or the subscriber file's
// rows in turn, each calling the row half the file further on.
struct Parties {
    std::vector<Caller> callers;
    std::vector<std::string> ppis; // P-Preferred-Identity header per caller
    std::string target;

    explicit Parties(const CallPlan& plan) : target(plan.target)
    {
        callers = plan.callers_from_file ? plan.callers : std::vector<Caller>{{plan.impu, plan.impi, plan.password}};
        for (const auto& caller : callers)
            ppis.push_back("P-Preferred-Identity: <" +
                           (plan.callers_from_file ? caller.impu : plan.preferred_identity) + ">");
    }
    std::size_t caller(std::uint64_t k) const { return k % callers.size(); }
    const std::string& callee(std::uint64_t k) const
    {
        return target.empty() ? callers[(k + callers.size() / 2) % callers.size()].impu : target;
    }
};

// The figures of a run so far, or of one stats interval.
struct Tally {
    std::uint64_t attempts = 0, answered = 0, succeeded = 0, failed = 0;
    LatencyHistogram setup;
};

} // namespace

Outcome run_load(const CallPlan& plan, const CallOptions& options, cli::Output& out)
{
    auto ua = make_user_agent(plan, options);
    NtaStats nta(ua->nta_agent());
    const Parties parties(plan);
    const std::string offer = build_sdp(local_media(plan.host, nullptr, supported_codecs()));
    const std::string route = route_header(plan);
    const std::uint64_t count = options.count ? options.count : std::numeric_limits<std::uint64_t>::max();
    // Enough room for the calls the rate keeps in their hold, and their setup.
    const unsigned concurrency =
        options.concurrency ? options.concurrency
                            : std::max(1000u, static_cast<unsigned>(options.rate * (options.duration + 2)));

    std::unordered_map<nua_handle_t*, std::unique_ptr<LoadCall>> calls;
    std::map<std::string, std::uint64_t> failures;
    Tally total, interval;
    std::uint64_t completed = 0;
    std::optional<Clock::time_point> last_setup;
    bool launching = true;
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    const auto nta_start = nta.read();
    LoopTimer pace(*ua), stats_timer(*ua);

    auto check_done = [&] {
        if (!launching && calls.empty())
            ua->stop();
    };
    auto end = [&](nua_handle_t* handle, const std::string& failure) {
        auto it = calls.find(handle);
        if (it == calls.end())
            return;
        ++completed;
        for (Tally* tally : {&total, &interval})
            ++(failure.empty() ? tally->succeeded : tally->failed);
        if (!failure.empty())
            ++failures[failure];
        nua_handle_bind(handle, nullptr);
        nua_handle_destroy(handle);
        calls.erase(it);
        check_done();
    };

    auto launch = [&] {
        const std::uint64_t k = total.attempts;
        const std::size_t who = parties.caller(k);
        const std::string& callee = parties.callee(k);
        auto call = std::make_unique<LoadCall>();
        call->caller = &parties.callers[who];
        call->handle = nua_handle(ua->nua(), nullptr, NUTAG_URL(callee.c_str()), SIPTAG_TO_STR(callee.c_str()),
                                  TAG_IF(plan.callers_from_file, SIPTAG_FROM_STR(call->caller->impu.c_str())),
                                  TAG_IF(!route.empty(), NUTAG_INITIAL_ROUTE_STR(route.c_str())), TAG_END());
        call->started = Clock::now();
        nua_handle_t* handle = call->handle;
        calls[handle] = std::move(call);
        ++total.attempts;
        ++interval.attempts;
        nua_invite(handle, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(offer.c_str()),
                   SIPTAG_HEADER_STR(parties.ppis[who].c_str()), TAG_END());
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
                    const std::string credentials = auth_answer(*call.caller, e.sip, call.auth_attempts++);
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
            last_setup = Clock::now();
            for (Tally* tally : {&total, &interval}) {
                ++tally->answered;
                tally->setup.add(std::chrono::duration<double, std::milli>(*last_setup - call.started).count());
            }
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
        const double elapsed = seconds_since(start);
        if (options.run_time > 0 && elapsed >= options.run_time)
            launching = false;
        const std::uint64_t due =
            options.rate > 0 ? std::min<std::uint64_t>(count, static_cast<std::uint64_t>(elapsed * options.rate) + 1) : count;
        while (launching && total.attempts < due && calls.size() < concurrency)
            launch();
        if (total.attempts >= count)
            launching = false;
        if (launching)
            pace.start(0.002, tick);
        else
            check_done();
    };

    // --stats-interval: one line per interval (a CSV header first in text mode).
    std::uint64_t retransmissions_before = 0;
    auto last_stats = start;
    std::function<void()> stats = [&] {
        const auto now = Clock::now();
        const double span = std::chrono::duration<double>(now - last_stats).count();
        last_stats = now;
        const std::uint64_t retransmissions = nta.read().retransmissions() - nta_start.retransmissions();
        const nlohmann::json fields{
            {"elapsed_s", rounded(seconds_since(start), 0.001)},
            {"attempts", interval.attempts},
            {"answered", interval.answered},
            {"successes", interval.succeeded},
            {"failures", interval.failed},
            {"in_progress", calls.size()},
            {"calls_per_s", span > 0 ? rounded(static_cast<double>(interval.answered) / span, 0.1) : 0.0},
            {"setup_ms", {{"p50", rounded(interval.setup.quantile(0.5), 0.001)}, {"p99", rounded(interval.setup.quantile(0.99), 0.001)}}},
            {"retransmissions", retransmissions - retransmissions_before},
            {"total_attempts", total.attempts},
        };
        retransmissions_before = retransmissions;
        out.event("load_stats", fields,
                  fmt::format("{},{},{},{},{},{},{},{:.3f},{:.3f},{}\n", fields["elapsed_s"].get<double>(), interval.attempts,
                              interval.answered, interval.succeeded, interval.failed, calls.size(),
                              fields["calls_per_s"].get<double>(), interval.setup.quantile(0.5),
                              interval.setup.quantile(0.99), fields["retransmissions"].get<std::uint64_t>()));
        out.flush();
        interval = Tally{};
        stats_timer.start(options.stats_interval, stats);
    };
    if (options.stats_interval > 0) {
        if (!out.json())
            out.raw("elapsed_s,attempts,answered,successes,failures,in_progress,calls_per_s,setup_p50_ms,setup_p99_ms,"
                 "retransmissions\n");
        stats_timer.start(options.stats_interval, stats);
    }

    tick();
    ua->run();
    pace.cancel();
    stats_timer.cancel();
    const double elapsed = seconds_since(start);
    const auto nta_end = nta.read();
    ua->set_handler(nullptr);
    for (auto& [handle, call] : calls) {
        nua_handle_destroy(handle);
        ++failures["unfinished"];
    }
    calls.clear();
    const double cpu = cpu_seconds() - cpu_start;

    const std::uint64_t attempts = total.attempts;
    const std::uint64_t failed = attempts - total.succeeded;
    // Setup rate: calls answered per second from the first INVITE to the last 200 OK (the holds after it excluded).
    const double setup_span = last_setup ? std::chrono::duration<double>(*last_setup - start).count() : 0;
    const double calls_per_s = setup_span > 0 ? static_cast<double>(total.answered) / setup_span : 0;
    nlohmann::json by_status = nlohmann::json::object();
    for (const auto& [status, n] : failures)
        by_status[status] = n;
    const LatencyHistogram& setup = total.setup;
    nlohmann::json fields{
        {"target", plan.target.empty() ? nlohmann::json() : nlohmann::json(plan.target)},
        {"callers", parties.callers.size()},
        {"attempts", attempts},
        {"successes", total.succeeded},
        {"failures", failed},
        {"failures_by_status", by_status},
        {"elapsed_s", rounded(elapsed, 0.001)},
        {"calls_per_s", rounded(calls_per_s, 0.1)},
        {"completed_per_s", elapsed > 0 ? rounded(static_cast<double>(completed) / elapsed, 0.1) : 0.0},
        {"hold_s", options.duration},
        {"setup_ms", {{"p50", rounded(setup.quantile(0.5), 0.001)}, {"p90", rounded(setup.quantile(0.9), 0.001)},
                      {"p99", rounded(setup.quantile(0.99), 0.001)}, {"max", rounded(setup.max(), 0.001)}}},
        {"retransmissions", nta_end.known ? nlohmann::json(nta_end.retransmissions() - nta_start.retransmissions()) : nlohmann::json()},
        {"requests_sent", nta_end.known ? nlohmann::json(nta_end.requests_sent - nta_start.requests_sent) : nlohmann::json()},
        {"cpu_s", rounded(cpu, 0.001)},
        {"cpu_s_per_1000_calls", attempts ? rounded(cpu * 1000 / static_cast<double>(attempts), 0.001) : 0.0},
    };
    const std::string to = plan.target.empty() ? fmt::format("{} subscribers", parties.callers.size()) : plan.target;
    std::string text = fmt::format("{} calls to {}: {} succeeded, {} failed in {:.2f} s ({:.1f} calls/s set up)\n", attempts,
                                   to, total.succeeded, failed, elapsed, calls_per_s);
    text += fmt::format("  setup       p50 {:.2f} ms, p90 {:.2f} ms, p99 {:.2f} ms, max {:.2f} ms\n", setup.quantile(0.5),
                        setup.quantile(0.9), setup.quantile(0.99), setup.max());
    if (nta_end.known)
        text += fmt::format("  requests    {} sent, {} retransmissions (requests and responses)\n",
                            nta_end.requests_sent - nta_start.requests_sent,
                            nta_end.retransmissions() - nta_start.retransmissions());
    text += fmt::format("  client CPU  {:.3f} s ({:.3f} s per 1,000 calls)\n", cpu,
                        fields["cpu_s_per_1000_calls"].get<double>());
    for (const auto& [status, n] : failures)
        text += fmt::format("  failed      {} × {}\n", n, status);
    out.event("load_summary", fields, text);
    if (failed)
        throw Failure(Outcome::negative, fmt::format("{} of {} calls failed", failed, attempts));
    return Outcome::ok;
}

} // namespace imsp2p::call
