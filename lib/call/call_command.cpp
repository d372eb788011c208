#include "call/call_command.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <strings.h>

namespace imsp2p::call {

UaConfig ua_config(const CallPlan& plan, const CallOptions& options)
{
    UaConfig config;
    config.host = plan.host;
    config.port = plan.port;
    config.proxy = plan.proxy;
    config.from = plan.impu;
    config.contact_user = plan.contact_user;
    config.user_agent = plan.user_agent;
    config.tls = plan.tls;
    config.tls_host = plan.tls_host;
    config.tls_port = plan.tls_port;
    config.tls_options = plan.tls_options;
    // Calls take offers in UPDATEs (and send their own); load mode leaves them to nua.
    config.answers_update = plan.mode == CallPlan::Mode::call || plan.mode == CallPlan::Mode::answer;
    config.precondition = options.precondition;
    // SIP timer B/F: never longer than what we wait for a first answer plus a ring.
    config.transaction_timeout = std::max(options.timeout, 1.0) + std::max(options.ring_timeout, 0.0);
    return config;
}

std::unique_ptr<UserAgent> make_user_agent(const CallPlan& plan, const CallOptions& options)
{
    UaConfig config = ua_config(plan, options);
    try {
        return std::make_unique<UserAgent>(config);
    } catch (const Failure& failure) {
        if (!plan.port_from_registration || failure.outcome() != Outcome::local)
            throw;
        spdlog::info("{}: using another port", failure.what());
        config.port = 0;
        return std::make_unique<UserAgent>(config);
    }
}

std::string no_answer_text(const CallPlan& plan, int status, const char* phrase)
{
    const std::string hop = plan.proxy.empty() ? plan.target : plan.proxy;
    const std::string tls_failure = sip::tls_failure_message(hop);
    return !tls_failure.empty() ? tls_failure : fmt::format("no answer from {}: {} {}", hop, status, phrase ? phrase : "");
}

std::string no_answer_within(const CallPlan& plan, double seconds)
{
    const std::string hop = plan.proxy.empty() ? plan.target : plan.proxy;
    const std::string tls_failure = sip::tls_failure_message(hop);
    return !tls_failure.empty() ? tls_failure : fmt::format("no answer from {} within {} s", hop, seconds);
}

std::string auth_answer(const CallPlan& plan, const sip_t* challenge, int attempts)
{
    return auth_answer(Caller{plan.impu, plan.impi, plan.password}, challenge, attempts);
}

std::string auth_answer(const Caller& plan, const sip_t* challenge, int attempts)
{
    std::string scheme, algorithm;
    bool stale = false;
    const std::string realm = challenge_realm(challenge, scheme, algorithm, stale);
    if (plan.password.empty())
        throw Failure(Outcome::auth, fmt::format("challenged for realm {} but no credentials were given "
                                                 "(--password or --subscribers)", realm.empty() ? "?" : realm));
    // Challenged again after answering: the credentials were refused, unless
    // only the nonce had expired (stale=true, once).
    if (attempts >= 2 || (attempts == 1 && !stale))
        throw Failure(Outcome::auth, fmt::format("credentials of {} refused (realm {})", plan.impi, realm));
    if (strcasecmp(scheme.c_str(), "Digest") != 0 || realm.empty())
        throw Failure(Outcome::auth, fmt::format("cannot answer a '{}' challenge", scheme));
    if (!algorithm.empty() && strcasecmp(algorithm.c_str(), "MD5") != 0 && strcasecmp(algorithm.c_str(), "MD5-sess") != 0)
        throw Failure(Outcome::auth, fmt::format("cannot answer Digest algorithm {} (ims-call answers MD5)", algorithm));
    return fmt::format("Digest:{}:{}:{}", realm, plan.impi, plan.password);
}

AudioSource audio_source(const CallPlan& plan, const CallOptions& options)
{
    AudioSource source;
    source.echo = options.echo;
    source.tone_hz = options.tone_hz;
    source.wav = plan.wav;
    return source;
}

std::string route_header(const CallPlan& plan)
{
    std::string value;
    for (const auto& route : plan.route)
        value += (value.empty() ? "<" : ", <") + route + ">";
    return value;
}

Outcome run_call_command(const CallOptions& given, cli::Output& out)
{
    CallOptions options = given;
    if (const auto proxy = ue::core_planning_proxy(options.core, options.proxy); !proxy.empty())
        options.proxy = proxy;
    CallPlan plan = plan_call(options);
    // One node picked for the run's requests (a call stays where it began).
    if (const auto directory = ue::open_core_directory(options.core, plan.host, options.timeout)) {
        plan.proxy = directory->pick().value_or(plan.proxy);
        spdlog::info("core discovery: {} node(s) in the load records, using {}", directory->nodes().size(), plan.proxy);
    }
    switch (plan.mode) {
    case CallPlan::Mode::answer:
        return run_answer(plan, options, out);
    case CallPlan::Mode::message:
        return run_message(plan, options, out);
    case CallPlan::Mode::load:
        return run_load(plan, options, out);
    case CallPlan::Mode::call:
        break;
    }
    return run_originate(plan, options, out);
}

} // namespace imsp2p::call
