// ims-register's load mode: registers the CSV's subscribers at a target rate
// with bounded concurrency, and reports what a SIP load generator reports.
#include "sip/registration.hpp"
#include "sip/stack.hpp"
#include "ue/register_command.hpp"
#include "util/cpu_time.hpp"
#include "util/histogram.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <deque>
#include <map>
#include <memory>

namespace imsp2p::ue {
namespace {

using Clock = std::chrono::steady_clock;

// Launch period: about four launches per tick, between 1 and 20 ms, keeps
// bursts small at thousands of registrations/s and wakeups few at low rates.
unsigned tick_period_us(double rate)
{
    if (rate <= 0)
        return 1000;
    return static_cast<unsigned>(std::clamp(4e6 / rate, 1000.0, 20000.0));
}

std::atomic<int> interrupted{0};
void on_interrupt(int signal)
{
    interrupted = signal;
}

std::string failure_cause(const sip::RegistrationResult& result)
{
    switch (result.outcome) {
    case Outcome::no_answer: return result.status == 408 ? "timeout" : "unreachable";
    case Outcome::auth: return result.status == 403 ? "forbidden" : "auth_rejected";
    case Outcome::negative: return fmt::format("status_{}", result.status);
    default: return "local_error";
    }
}

double round3(double value)
{
    return std::round(value * 1000) / 1000;
}

class LoadRun {
public:
    LoadRun(const RegisterOptions& options, RegisterPlan& plan, sip::SipStack& stack, cli::Output& out,
            CoreDirectory* directory)
        : options_(options), stack_(stack), out_(out), progress_(stack), directory_(directory)
    {
        for (const auto& row : plan.subscribers) {
            auto params = params_for(row, options, plan.params.registrar, plan.params.next_hop);
            const auto at = params.impu.find('@');
            params.contact = stack.contact_uri(params.impu.substr(params.impu.find(':') + 1, at - params.impu.find(':') - 1));
            registrations_.push_back(std::make_unique<sip::Registration>(stack, std::move(params)));
            idle_.push_back(registrations_.back().get());
        }
        concurrency_ = options.concurrency ? options.concurrency : static_cast<unsigned>(std::min<size_t>(registrations_.size(), 2000));
        show_progress_ = !out.json() && isatty(STDERR_FILENO);
    }

    Outcome run()
    {
        std::signal(SIGINT, on_interrupt);
        std::signal(SIGTERM, on_interrupt);
        const double cpu_before = cpu_seconds();
        start_ = Clock::now();
        sip::Ticker tick(stack_, tick_period_us(options_.rate), [this] { on_tick(); });
        if (show_progress_)
            progress_.start(1000, [this] { on_progress(); });
        stack_.run();
        const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        const double cpu = cpu_seconds() - cpu_before;
        if (show_progress_)
            std::fputs("\r\033[K", stderr);
        return report(elapsed, cpu);
    }

private:
    bool launching_done() const
    {
        if (interrupted)
            return true;
        if (options_.count && launched_ >= options_.count)
            return true;
        return options_.duration > 0 && std::chrono::duration<double>(Clock::now() - start_).count() >= options_.duration;
    }

    void on_tick()
    {
        if (!launching_done())
            launch_due();
        else if (in_flight_ == 0)
            stack_.stop();
    }

    void launch_due()
    {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        std::uint64_t due = options_.rate > 0 ? static_cast<std::uint64_t>(elapsed * options_.rate) + 1 : UINT64_MAX;
        if (options_.count)
            due = std::min<std::uint64_t>(due, options_.count);
        while (launched_ < due && in_flight_ < concurrency_ && !idle_.empty())
            launch();
    }

    void launch()
    {
        sip::Registration* registration = idle_.front();
        idle_.pop_front();
        ++launched_;
        ++in_flight_;
        // Every attempt is an initial registration: challenged, answered, accepted.
        registration->forget_challenge();
        auto finished = [this, registration](const sip::RegistrationResult& result, unsigned tried) {
            --in_flight_;
            if (tried > 1)
                moved_ += tried - 1;
            if (result.outcome == Outcome::ok)
                ++per_node_[registration->params().next_hop];
            transactions_ += result.transactions;
            if (result.outcome == Outcome::ok) {
                ++successes_;
                latency_.add(result.latency_ms);
            } else {
                ++failures_[failure_cause(result)];
                if (failures_total() <= 3)
                    spdlog::warn("{}: {}", registration->params().impu, result.error);
            }
            idle_.push_back(registration);
            if (options_.rate <= 0 && !launching_done())
                launch_due();
        };
        if (directory_)
            register_through_core(*directory_, *registration, sip::RegisterAction::bind, finished);
        else
            registration->start(sip::RegisterAction::bind,
                                [finished](const sip::RegistrationResult& result) { finished(result, 1); });
    }

    std::uint64_t failures_total() const
    {
        std::uint64_t total = 0;
        for (const auto& [cause, count] : failures_)
            total += count;
        return total;
    }

    void on_progress()
    {
        const double elapsed = std::chrono::duration<double>(Clock::now() - start_).count();
        std::fprintf(stderr, "\r\033[K%llu sent, %llu ok, %llu failed, %.0f/s, %u in flight",
                     static_cast<unsigned long long>(launched_), static_cast<unsigned long long>(successes_),
                     static_cast<unsigned long long>(failures_total()), static_cast<double>(successes_) / elapsed, in_flight_);
        progress_.start(1000, [this] { on_progress(); });
    }

    Outcome report(double elapsed, double cpu)
    {
        const auto stats = stack_.stats();
        const std::uint64_t failed = failures_total();
        const double rate = elapsed > 0 ? static_cast<double>(successes_) / elapsed : 0;
        const double cpu_per_1000 = successes_ + failed ? cpu * 1000.0 / static_cast<double>(successes_ + failed) : 0;
        nlohmann::json causes = nlohmann::json::object();
        std::string cause_text;
        for (const auto& [cause, count] : failures_) {
            causes[cause] = count;
            cause_text += fmt::format("{}{} {}", cause_text.empty() ? "" : ", ", cause, count);
        }
        nlohmann::json fields{
            {"attempts", launched_},
            {"successes", successes_},
            {"failures", failed},
            {"failures_by_cause", causes},
            {"interrupted", interrupted != 0},
            {"duration_s", round3(elapsed)},
            {"rate_target", options_.rate > 0 ? nlohmann::json(options_.rate) : nlohmann::json()},
            {"rate_achieved", round3(rate)},
            {"concurrency", concurrency_},
            {"latency_ms",
             {{"p50", round3(latency_.quantile(0.50))},
              {"p90", round3(latency_.quantile(0.90))},
              {"p99", round3(latency_.quantile(0.99))},
              {"max", round3(latency_.max())}}},
            {"transactions", transactions_},
            {"retransmissions", stats.retransmissions},
            {"cpu_s", round3(cpu)},
            {"cpu_s_per_1000", round3(cpu_per_1000)},
        };
        std::string text = fmt::format("load: {} registrations in {:.2f} s: {} ok, {} failed{}\n", launched_, elapsed,
                                       successes_, failed, interrupted ? " (interrupted)" : "");
        text += fmt::format("  rate             {:.1f}/s", rate);
        text += options_.rate > 0 ? fmt::format(" (target {}/s)\n", options_.rate) : " (as fast as possible)\n";
        text += fmt::format("  latency          p50 {:.2f} ms  p90 {:.2f} ms  p99 {:.2f} ms  max {:.2f} ms\n",
                            latency_.quantile(0.5), latency_.quantile(0.9), latency_.quantile(0.99), latency_.max());
        text += fmt::format("  transactions     {} ({} retransmissions)\n", transactions_, stats.retransmissions);
        text += fmt::format("  client CPU       {:.2f} s ({:.3f} s per 1,000 registrations)\n", cpu, cpu_per_1000);
        if (!cause_text.empty())
            text += fmt::format("  failures         {}\n", cause_text);
        if (directory_) {
            // Where the successes ended up: the spread core discovery achieved.
            nlohmann::json shares = nlohmann::json::object();
            for (const auto& [node, count] : per_node_) {
                const double share = successes_ ? 100.0 * static_cast<double>(count) / static_cast<double>(successes_) : 0;
                shares[node] = {{"successes", count}, {"share_percent", round3(share)}};
                text += fmt::format("  node             {} {} ({:.1f}%)\n", node, count, share);
            }
            fields["per_node"] = shares;
            fields["moved"] = moved_;
            text += fmt::format("  moved            {} (redirects and retries on another node)\n", moved_);
        }
        out_.event("load_summary", fields, text);
        if (interrupted && launched_ == 0)
            throw Failure(Outcome::local, "interrupted");
        return failed ? Outcome::negative : Outcome::ok;
    }

    const RegisterOptions& options_;
    sip::SipStack& stack_;
    cli::Output& out_;
    sip::Timer progress_;
    std::vector<std::unique_ptr<sip::Registration>> registrations_;
    std::deque<sip::Registration*> idle_;
    unsigned concurrency_ = 0;
    bool show_progress_ = false;
    Clock::time_point start_;
    std::uint64_t launched_ = 0, successes_ = 0, transactions_ = 0;
    unsigned in_flight_ = 0;
    std::map<std::string, std::uint64_t> failures_;
    LatencyHistogram latency_;
    CoreDirectory* directory_ = nullptr;
    std::map<std::string, std::uint64_t> per_node_; // successes by the core node that accepted them
    std::uint64_t moved_ = 0;
};

} // namespace

Outcome run_register_load(const RegisterOptions& given, cli::Output& out)
{
    RegisterOptions options = given;
    if (const auto proxy = core_planning_proxy(options.core, options.proxy); !proxy.empty())
        options.proxy = proxy;
    RegisterPlan plan = plan_registration(options);
    const auto directory = open_core_directory(options.core, plan.stack.host, options.timeout);
    if (directory)
        directory->keep_current(std::chrono::seconds(2)); // as often as the nodes publish by default
    sip::SipStack stack(plan.stack);
    LoadRun run(options, plan, stack, out, directory.get());
    return run.run();
}

} // namespace imsp2p::ue
