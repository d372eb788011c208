#include "ue/register_command.hpp"

#include "sip/reg_event.hpp"
#include "sip/registration.hpp"
#include "sip/stack.hpp"
#include "secagree/xfrm_sas.hpp"
#include "ue/sec_agree_options.hpp"
#include "ue/usim_state.hpp"
#include "util/hex.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>

namespace imsp2p::ue {
namespace {

std::atomic<int> stop_signal{0};

void on_stop_signal(int signal)
{
    stop_signal = signal;
}

// TS 24.229 §5.1.1.4.1: refresh 600 s before expiry when registered for more
// than 1,200 s, otherwise when half of the time has passed.
unsigned refresh_delay_ms(unsigned expires)
{
    const unsigned seconds = expires > 1200 ? expires - 600 : expires / 2;
    return std::max(1u, seconds) * 1000;
}

nlohmann::json result_fields(const sip::RegistrationParams& params, const sip::SipStack& stack,
                             const sip::RegistrationResult& result, bool show_keys)
{
    nlohmann::json fields{
        {"impu", params.impu},
        {"impi", params.username},
        {"registrar", params.registrar},
        {"proxy", params.next_hop.empty() ? nlohmann::json() : nlohmann::json(params.next_hop)},
        {"transport", stack.config().transport},
        {"local", fmt::format("{}:{}", stack.local_host(), stack.local_port())},
        {"contact", params.contact},
        {"instance_id", params.instance_id},
        {"status", result.status},
        {"reason", result.phrase},
    };
    if (result.outcome != Outcome::ok) {
        fields["outcome"] = outcome_name(result.outcome);
        fields["error"] = result.error;
    }
    fields["expires"] = result.expires;
    fields["service_route"] = result.service_route;
    fields["path"] = result.path;
    fields["p_associated_uri"] = result.associated_uris;
    fields["pub_gruu"] = result.pub_gruu.empty() ? nlohmann::json() : nlohmann::json(result.pub_gruu);
    fields["temp_gruu"] = result.temp_gruu.empty() ? nlohmann::json() : nlohmann::json(result.temp_gruu);
    fields["call_id"] = result.call_id;
    fields["cseq"] = result.cseq;
    fields["algorithm"] = result.algorithm.empty() ? nlohmann::json() : nlohmann::json(result.algorithm);
    fields["resynchronised"] = result.resynchronised;
    if (show_keys && result.ck && result.ik) { // secrets: only on request (--show-keys)
        fields["ck"] = to_hex(result.ck->data(), result.ck->size());
        fields["ik"] = to_hex(result.ik->data(), result.ik->size());
    }
    if (result.sec_agree)
        fields["sec_agree"] = sec_agree_fields(*result.sec_agree, show_keys);
    fields["latency_ms"] = std::round(result.latency_ms * 1000) / 1000;
    fields["transactions"] = result.transactions;
    fields["bindings"] = result.bindings.size();
    return fields;
}

std::string result_text(const std::string& verb, const sip::RegistrationParams& params, const sip::RegistrationResult& result)
{
    std::string text = fmt::format("{} {} ({})\n", verb, params.impu, params.username);
    auto row = [&text](std::string_view key, const std::string& value) {
        if (!value.empty())
            text += fmt::format("  {:<17}{}\n", key, value);
    };
    row("contact", params.contact);
    if (verb != "unregistered")
        row("expires", fmt::format("{} s", result.expires));
    for (const auto& route : result.service_route)
        row("service-route", route);
    for (const auto& path : result.path)
        row("path", path);
    for (const auto& uri : result.associated_uris)
        row("associated-uri", uri);
    row("pub-gruu", result.pub_gruu);
    row("temp-gruu", result.temp_gruu);
    row("bindings", std::to_string(result.bindings.size()));
    row("answer", fmt::format("{} {} in {:.1f} ms ({} transaction{}{}{})", result.status, result.phrase, result.latency_ms,
                              result.transactions, result.transactions == 1 ? "" : "s",
                              result.algorithm.empty() ? "" : ", Digest " + result.algorithm,
                              result.resynchronised ? ", SQN resynchronised" : ""));
    if (result.sec_agree)
        row("sec-agree", sec_agree_summary(*result.sec_agree));
    return text;
}

// Runs one action to completion on the stack's loop (through the core
// nodes the directory picks, when there is one).
sip::RegistrationResult run_action(sip::SipStack& stack, sip::Registration& registration, sip::RegisterAction action,
                                   CoreDirectory* directory)
{
    sip::RegistrationResult outcome;
    auto finished = [&](const sip::RegistrationResult& result) {
        outcome = result;
        stack.stop();
    };
    if (directory)
        register_through_core(*directory, registration, action, [&](const sip::RegistrationResult& result, unsigned) { finished(result); });
    else
        registration.start(action, finished);
    stack.run();
    return outcome;
}

} // namespace

Outcome run_register(const RegisterOptions& given, cli::Output& out)
{
    RegisterOptions options = given;
    if (const auto proxy = core_planning_proxy(options.core, options.proxy); !proxy.empty())
        options.proxy = proxy;
    RegisterPlan plan = plan_registration(options);
    const auto directory = open_core_directory(options.core, plan.stack.host, options.timeout);
    sip::SipStack stack(plan.stack);
    plan.params.contact = plan.explicit_contact.empty() ? stack.contact_uri(plan.contact_user) : plan.explicit_contact;
    set_offer_ports(plan.params.security_client, static_cast<std::uint16_t>(stack.local_port()));
    sip::Registration registration(stack, plan.params);
    const auto& params = registration.params();
    std::unique_ptr<secagree::XfrmSas> sas; // removed when the run ends
    if (options.sec_agree)
        registration.params().on_security_agreed = [&](secagree::Agreement& agreement) -> std::string {
            if (options.sec_sa == "none") {
                spdlog::warn("sec-agree: --sec-sa none: no IPsec SAs, the REGISTER answering the challenge goes unprotected");
                return {};
            }
            try {
                sas = std::make_unique<secagree::XfrmSas>(
                    secagree::SaEndpoints{stack.local_host(), agreement.pcscf_address, stack.config().transport},
                    agreement.ue, agreement.pcscf, agreement.keys);
            } catch (const Failure& failure) {
                agreement.sa = "unavailable";
                return failure.what();
            }
            agreement.sa = "installed";
            // TS 33.203 §7.1: from now on to the P-CSCF's protected server port.
            const bool v6 = agreement.pcscf_address.find(':') != std::string::npos;
            registration.params().next_hop =
                fmt::format("sip:{}{}{}:{}{}", v6 ? "[" : "", agreement.pcscf_address, v6 ? "]" : "", agreement.pcscf.port_s,
                            stack.config().transport == "udp" ? "" : ";transport=" + stack.config().transport);
            return {};
        };
    // The USIM's SEQ_MS must outlive this process, whatever the outcome.
    struct SaveUsim {
        const RegisterPlan& plan;
        ~SaveUsim()
        {
            if (plan.params.usim && plan.usim_state) {
                try {
                    save_usim_state(*plan.params.usim, plan.params.username, *plan.usim_state);
                } catch (const Failure& failure) {
                    spdlog::warn("{}", failure.what());
                }
            }
        }
    } save_usim{plan};

    auto report_failure = [&](const sip::RegistrationResult& result) {
        out.event("failed", result_fields(params, stack, result, options.show_keys), "");
        throw Failure(result.outcome, result.error);
    };

    if (options.unregister || options.unregister_all) {
        if (options.unregister && options.contact.empty()) {
            // Our contact address may differ from an earlier run's: find the
            // bindings of this device (instance id) and remove those.
            auto query = run_action(stack, registration, sip::RegisterAction::query, directory.get());
            if (query.outcome != Outcome::ok)
                report_failure(query);
            std::vector<std::string> ours;
            for (const auto& binding : query.bindings)
                if (binding.ours)
                    ours.push_back(binding.uri);
            if (ours.empty()) {
                out.event("unregistered", result_fields(params, stack, query, options.show_keys),
                          fmt::format("unregistered {}: no binding of this UE was left\n", params.impu));
                return Outcome::ok;
            }
            registration.set_unbind_contacts(ours);
        }
        auto result = run_action(stack, registration,
                                 options.unregister_all ? sip::RegisterAction::unbind_all : sip::RegisterAction::unbind,
                                 directory.get());
        if (result.outcome != Outcome::ok)
            report_failure(result);
        out.event("unregistered", result_fields(params, stack, result, options.show_keys), result_text("unregistered", params, result));
        return Outcome::ok;
    }

    auto result = run_action(stack, registration, sip::RegisterAction::bind, directory.get());
    if (result.outcome != Outcome::ok)
        report_failure(result);
    if (result.expires == 0 && !result.bindings.empty())
        spdlog::warn("the registrar's 200 OK does not list our contact {}", params.contact);
    out.event("registered", result_fields(params, stack, result, options.show_keys), result_text("registered", params, result));
    if (!options.keep)
        return Outcome::ok;

    // --keep: refresh before expiry until SIGINT/SIGTERM, then deregister.
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    sip::Timer refresh(stack), poll(stack);
    Outcome final_outcome = Outcome::ok;
    std::string final_error;
    auto expiry = std::chrono::steady_clock::now() + std::chrono::seconds(result.expires);
    std::function<void(unsigned)> schedule = [&](unsigned delay_ms) {
        refresh.start(delay_ms, [&] {
            registration.start(sip::RegisterAction::bind, [&](const sip::RegistrationResult& refreshed) {
                if (refreshed.outcome == Outcome::ok) {
                    expiry = std::chrono::steady_clock::now() + std::chrono::seconds(refreshed.expires);
                    out.event("refreshed", result_fields(params, stack, refreshed, options.show_keys), result_text("refreshed", params, refreshed));
                    schedule(refresh_delay_ms(refreshed.expires));
                    return;
                }
                spdlog::warn("refresh failed: {}", refreshed.error);
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(expiry - std::chrono::steady_clock::now());
                if (left.count() <= 1000) {
                    out.event("failed", result_fields(params, stack, refreshed, options.show_keys), "");
                    final_outcome = refreshed.outcome;
                    final_error = "registration expired: " + refreshed.error;
                    stack.stop();
                    return;
                }
                schedule(static_cast<unsigned>(std::min<long>(left.count() / 2, 30000)));
            });
        });
    };
    schedule(refresh_delay_ms(result.expires));

    // --reg-event: follow this UE's registration state as the network sees it.
    std::unique_ptr<sip::RegEventSubscription> subscription;
    if (options.reg_event) {
        sip::RegEventParams subscribe{params.impu, params.contact, result.service_route,
                                      params.next_hop.empty() ? params.registrar : params.next_hop, 600, params.user_agent};
        subscription = std::make_unique<sip::RegEventSubscription>(
            stack, subscribe,
            [&](const sip::RegEventNotice& notice) {
                nlohmann::json fields{{"impu", params.impu}, {"contact", params.contact},
                                      {"contact_state", notice.contact_state}, {"version", notice.version}};
                if (!notice.deregistered) {
                    out.event("reg_state", fields,
                              fmt::format("registration state of {}: {} (reginfo version {})", params.impu,
                                          notice.contact_state, notice.version));
                    return;
                }
                fields["reason"] = notice.reason;
                out.event("deregistered", fields,
                          fmt::format("deregistered by the network: {} ({})", params.impu, notice.reason));
                refresh.cancel();
                poll.cancel();
                final_outcome = Outcome::negative;
                final_error = fmt::format("the network deregistered {} ({})", params.impu, notice.reason);
                stack.stop();
            },
            [&](Outcome, const std::string& error) { spdlog::warn("{}", error); });
        subscription->start();
    }
    std::function<void()> watch = [&] {
        if (!stop_signal) {
            poll.start(100, watch);
            return;
        }
        refresh.cancel();
        spdlog::info("signal {}: deregistering", stop_signal.load());
        auto deregister = [&] { registration.start(sip::RegisterAction::unbind, [&](const sip::RegistrationResult& removed) {
            if (removed.outcome == Outcome::ok) {
                out.event("unregistered", result_fields(params, stack, removed, options.show_keys), result_text("unregistered", params, removed));
            } else {
                out.event("failed", result_fields(params, stack, removed, options.show_keys), "");
                final_outcome = removed.outcome;
                final_error = removed.error;
            }
            stack.stop();
        }); };
        if (subscription)
            subscription->stop(deregister); // unsubscribe first, then deregister
        else
            deregister();
    };
    poll.start(100, watch);
    stack.run();
    if (final_outcome != Outcome::ok)
        throw Failure(final_outcome, final_error);
    return Outcome::ok;
}

nlohmann::json read_registration(const std::string& path)
{
    auto usage = [](const std::string& message) { return Failure(Outcome::usage, message); };
    std::ifstream file;
    std::istream* input = &std::cin;
    const std::string name = path == "-" ? "standard input" : path;
    if (path != "-") {
        file.open(path);
        if (!file)
            throw usage(fmt::format("--registration: cannot read {}", path));
        input = &file;
    }
    nlohmann::json found;
    std::string line;
    int number = 0;
    while (std::getline(*input, line)) {
        ++number;
        if (line.find_first_not_of(" \t\r") == std::string::npos)
            continue;
        nlohmann::json event;
        try {
            event = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception&) {
            throw usage(fmt::format("--registration: {}:{}: not JSON (expected the output of ims-register --json)", name, number));
        }
        if (!event.is_object())
            continue;
        // json::value() throws when "event" is there but not a string: read it by hand.
        const auto kind = event.find("event");
        if (kind != event.end() && kind->is_string() && (*kind == "registered" || *kind == "refreshed"))
            found = event;
    }
    if (found.is_null())
        throw usage(fmt::format("--registration: no \"registered\" event in {}", name));
    return found;
}

} // namespace imsp2p::ue
