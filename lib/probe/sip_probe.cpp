#include "probe/sip_probe.hpp"

#include "core/binding_record.hpp"
#include "dht/overlay_key.hpp"
#include "dht/signed_record.hpp"
#include "probe/dht_client.hpp"
#include "probe/dht_probe.hpp"
#include "sip/registration.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"
#include "sip/uri.hpp"
#include "util/histogram.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <map>
#include <optional>

namespace imsp2p::probe {
namespace {

using Clock = std::chrono::steady_clock;

double round3(double value)
{
    return std::round(value * 1000) / 1000;
}

struct Target {
    sip::SipUri uri;
    std::string address;  // resolved numeric host
    std::string route;    // sip:ADDRESS:PORT;transport=…, where requests go
    std::string error;    // resolution failure
};

struct Ping {
    int status = 0;          // 0: no answer
    std::string phrase;
    std::string server;      // Server, or else User-Agent
    double ms = 0;
    std::size_t retransmissions = 0;
};

// One IPv4 address for a host name (numeric hosts pass through).
std::optional<std::string> resolve_host(const std::string& host, std::string& error)
{
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    const int rc = getaddrinfo(host.c_str(), nullptr, &hints, &found);
    if (rc != 0) {
        error = fmt::format("cannot resolve {}: {}", host, gai_strerror(rc));
        return std::nullopt;
    }
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, text, sizeof text);
    freeaddrinfo(found);
    return std::string(text);
}

// OPTIONS transactions, one after another, on the stack's loop.
class Pinger {
public:
    Pinger(sip::SipStack& stack, const std::vector<Target>& targets, unsigned count)
        : stack_(stack), targets_(targets), count_(count), results_(targets.size())
    {
    }

    std::vector<std::vector<Ping>> run()
    {
        next();
        if (!done_)
            stack_.run();
        return std::move(results_);
    }

private:
    // nta's outgoing magic type is fixed project-wide (sip/sofia.hpp) to
    // Registration; this callback gets a Pinger through the same pointer.
    static int on_response_cb(sip::Registration* magic, nta_outgoing_s*, const sip_s* sip)
    {
        return reinterpret_cast<Pinger*>(magic)->on_response(sip);
    }

    void next()
    {
        while (target_ < targets_.size() && (!targets_[target_].error.empty() || sent_ >= count_)) {
            ++target_;
            sent_ = 0;
        }
        if (target_ >= targets_.size()) {
            done_ = true;
            stack_.stop();
            return;
        }
        ++sent_;
        const auto& target = targets_[target_];
        before_ = stack_.stats();
        started_ = Clock::now();
        msg_t* msg = nta_msg_create(stack_.agent(), 0);
        sip_t* sip = sip_object(msg);
        su_home_t* home = msg_home(msg);
        const auto from = fmt::format("<sip:overlay-probe@{}>;tag=probe{}{}", stack_.local_host(), target_, sent_);
        const bool built =
            msg &&
            sip_header_insert(msg, sip, reinterpret_cast<sip_header_t*>(sip_request_create(
                                            home, SIP_METHOD_OPTIONS, URL_STRING_MAKE(target.uri.text.c_str()), nullptr))) == 0 &&
            sip_add_tl(msg, sip, SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(("<" + target.uri.text + ">").c_str()),
                       SIPTAG_CALL_ID(sip_call_id_create(home, nullptr)),
                       SIPTAG_CSEQ(sip_cseq_create(home, 1, SIP_METHOD_OPTIONS)), SIPTAG_MAX_FORWARDS_STR("70"),
                       SIPTAG_ACCEPT_STR("application/sdp"), SIPTAG_USER_AGENT_STR("imsp2p overlay-probe"), TAG_END()) == 0;
        if (built)
            orq_ = nta_outgoing_mcreate(stack_.agent(), &Pinger::on_response_cb, reinterpret_cast<sip::Registration*>(this),
                                        URL_STRING_MAKE(target.route.c_str()), msg, TAG_END());
        if (!orq_) {
            if (msg)
                msg_destroy(msg);
            results_[target_].push_back({});
            next();
        }
    }

    int on_response(const sip_s* sip)
    {
        if (sip && sip->sip_status && sip->sip_status->st_status < 200)
            return 0; // provisional: wait for the final answer
        Ping ping;
        ping.ms = std::chrono::duration<double, std::milli>(Clock::now() - started_).count();
        const auto after = stack_.stats();
        ping.retransmissions = after.retransmissions - before_.retransmissions;
        // nta answers a transaction that timed out with its own 408 (or 503 when
        // it could not send): only a response that came in over the network counts.
        if (sip && sip->sip_status && !nta_sip_is_internal(sip)) {
            ping.status = sip->sip_status->st_status;
            ping.phrase = sip->sip_status->st_phrase ? sip->sip_status->st_phrase : "";
            if (sip->sip_server && sip->sip_server->g_string)
                ping.server = sip->sip_server->g_string;
            else if (sip->sip_user_agent && sip->sip_user_agent->g_string)
                ping.server = sip->sip_user_agent->g_string;
        }
        results_[target_].push_back(std::move(ping));
        nta_outgoing_destroy(orq_);
        orq_ = nullptr;
        next();
        return 0;
    }

    sip::SipStack& stack_;
    const std::vector<Target>& targets_;
    unsigned count_;
    std::vector<std::vector<Ping>> results_;
    std::size_t target_ = 0;
    unsigned sent_ = 0;
    bool done_ = false;
    nta_outgoing_s* orq_ = nullptr;
    sip::StackStats before_;
    Clock::time_point started_;
};

struct RegisterCheck {
    sip::RegistrationResult bind, unbind;
};

RegisterCheck register_check(sip::SipStack& stack, const SipProbeOptions& options, const Target& through)
{
    sip::RegistrationParams params;
    params.impu = options.impu;
    const auto impu = sip::parse_sip_uri(options.impu, "--impu", true);
    params.registrar = options.registrar.empty() ? "sip:" + impu.host : options.registrar;
    params.next_hop = through.route;
    params.username = options.impi.empty() ? impu.user + "@" + impu.host : options.impi;
    params.password = options.password;
    params.contact = stack.contact_uri(impu.user);
    params.expires = 60; // short: a probe that dies midway leaves a binding that soon ends
    params.user_agent = "imsp2p overlay-probe";
    RegisterCheck out;
    sip::Registration registration(stack, params);
    registration.start(sip::RegisterAction::bind, [&](const sip::RegistrationResult& result) {
        out.bind = result;
        if (result.outcome != Outcome::ok) {
            stack.stop();
            return;
        }
        registration.start(sip::RegisterAction::unbind, [&](const sip::RegistrationResult& removed) {
            out.unbind = removed;
            stack.stop();
        });
    });
    stack.run();
    return out;
}

// Looks the IMPU's bindings up in the overlay and checks each against the overlay key.
nlohmann::json resolve_in_overlay(const SipProbeOptions& options, ProbeResult& result)
{
    const auto aor = sip::canonical_aor(sip::parse_sip_uri(options.resolve, "--resolve", true));
    const dht::Verifier verifier(dht::OverlayKey::load(options.overlay_key));
    const auto node = DhtClient::shared({options.local.empty() ? "0.0.0.0" : options.local, options.network_id});
    auto& client = *node;
    std::vector<std::string> addresses;
    for (const auto& entry : options.bootstrap)
        for (auto& address : DhtClient::resolve(entry))
            addresses.push_back(address);
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(options.timeout * 1000));
    bool joined = false;
    for (const auto& rtt : client.ping_all(addresses, timeout))
        joined = joined || rtt.has_value();
    if (!joined)
        throw Failure(Outcome::no_answer, fmt::format("--resolve: no overlay node answered at {} (network {})",
                                                      fmt::join(options.bootstrap, ", "), options.network_id));
    client.lookup(client.node_id(), timeout); // join: fill the routing table
    const auto lookup = client.lookup(DhtClient::hash_of(aor), timeout);
    nlohmann::json bindings = nlohmann::json::array(), dropped = nlohmann::json::array(), served = nlohmann::json::array();
    for (const auto& node : lookup.nodes)
        served.push_back({{"id", node.id}, {"address", node.address}});
    const auto now = std::time(nullptr);
    for (const auto& value : lookup.values) {
        const auto checked = verifier.check(value, now);
        if (!checked.ok() || checked.record.key != aor) {
            dropped.push_back({{"verdict", checked.ok() ? "wrong-key" : std::string(dht::verdict_name(checked.verdict))},
                               {"writer", checked.writer}});
            continue;
        }
        const auto payload = core::decode_binding(checked.record.payload);
        if (!payload || payload->removed)
            continue; // tombstones and other kinds: not a live binding
        // As the core nodes of this host see it: ended by the monotonic clock too.
        const auto end = core::binding_end_here(payload->binding, payload->written_on, core::host_clock_now());
        const auto left = std::chrono::duration_cast<std::chrono::seconds>(end - core::Clock::now());
        if (left.count() <= 0)
            continue;
        bindings.push_back({{"contact", payload->binding.contact},
                            {"expires_in", left.count()},
                            {"node", payload->node},
                            {"writer", checked.writer}});
    }
    result.metric("bindings", static_cast<double>(bindings.size()));
    return {{"impu", aor},
            {"resolved", !bindings.empty()},
            {"lookup_ok", lookup.ok},
            {"lookup_ms", round3(lookup.ms)},
            {"bindings", bindings},
            {"dropped", dropped},
            {"served_by", served}};
}

} // namespace

void check(const SipProbeOptions& options)
{
    if (options.uris.empty() && options.resolve.empty())
        throw Failure(Outcome::usage, "sip: give at least one SIP URI to ping, or --resolve IMPU");
    for (const auto& uri : options.uris)
        sip::parse_sip_uri(uri, "URI");
    if (options.transport != "udp" && options.transport != "tcp")
        throw Failure(Outcome::usage, fmt::format("sip: --transport '{}' is not udp or tcp", options.transport));
    if (!options.impu.empty() || !options.password.empty()) {
        if (options.impu.empty() || options.password.empty())
            throw Failure(Outcome::usage, "sip: the register check needs both --impu and --password");
        if (options.uris.empty())
            throw Failure(Outcome::usage, "sip: the register check goes through the first URI: give one");
        sip::parse_sip_uri(options.impu, "--impu", true);
    }
    if (!options.resolve.empty()) {
        sip::parse_sip_uri(options.resolve, "--resolve", true);
        if (options.bootstrap.empty() || options.network_id == 0 || options.overlay_key.empty())
            throw Failure(Outcome::usage, "sip: --resolve needs --overlay, --overlay-network-id and --overlay-key (overlay.key of p2p-node ca init)");
    }
}

ProbeResult probe_sip(const SipProbeOptions& options)
{
    check(options);
    ProbeResult result;
    result.probe = "sip";
    result.target = options.uris.empty() ? options.resolve : fmt::format("{}", fmt::join(options.uris, ","));

    std::vector<Target> targets;
    for (const auto& text : options.uris) {
        Target target;
        target.uri = sip::parse_sip_uri(text, "URI");
        if (auto address = resolve_host(target.uri.host, target.error)) {
            target.address = *address;
            const auto transport = target.uri.transport.empty() ? options.transport : target.uri.transport;
            target.route = fmt::format("sip:{}:{};transport={}", target.address,
                                       target.uri.port ? target.uri.port : 5060, transport);
        }
        targets.push_back(std::move(target));
    }

    std::size_t sent = 0, answered = 0, retransmissions = 0, unresolved = 0;
    LatencyHistogram latency;
    bool rejected = false;
    std::optional<sip::SipStack> stack;
    if (!targets.empty()) {
        sip::StackConfig config;
        config.transport = options.transport;
        const auto& first = targets.front().address.empty() ? std::string("127.0.0.1") : targets.front().address;
        config.host = options.local.empty() ? sip::source_address_towards(first) : options.local;
        config.transaction_timeout = options.timeout;
        stack.emplace(config);
        Pinger pinger(*stack, targets, options.count);
        const auto pings = pinger.run();
        for (std::size_t i = 0; i < targets.size(); ++i) {
            const auto& target = targets[i];
            nlohmann::json item{{"uri", target.uri.text}};
            if (!target.error.empty()) {
                ++unresolved;
                item["error"] = target.error;
                result.detail += fmt::format("  {:<32} {}\n", target.uri.text, target.error);
                result.items.push_back(item);
                continue;
            }
            item["address"] = target.address;
            std::size_t ok = 0, retx = 0;
            LatencyHistogram rtt;
            int status = 0;
            std::string phrase, server;
            for (const auto& ping : pings[i]) {
                ++sent;
                retx += ping.retransmissions;
                if (ping.status) {
                    ++ok;
                    rtt.add(ping.ms);
                    latency.add(ping.ms);
                    status = ping.status;
                    phrase = ping.phrase;
                    server = ping.server;
                }
            }
            answered += ok;
            retransmissions += retx;
            // Any final answer proves the node alive; a 5xx or 6xx means it is not serving.
            rejected = rejected || status >= 500;
            item["sent"] = pings[i].size();
            item["answered"] = ok;
            item["status"] = status ? nlohmann::json(status) : nlohmann::json();
            item["reason"] = phrase;
            item["server"] = server;
            item["rtt_ms"] = ok ? nlohmann::json(round3(rtt.quantile(0.5))) : nlohmann::json();
            item["retransmissions"] = retx;
            result.items.push_back(item);
            result.detail += fmt::format("  {:<32} {}  {}/{} answered, rtt {}, {} retransmissions{}\n", target.uri.text,
                                         status ? fmt::format("{} {}", status, phrase) : std::string("no answer"), ok,
                                         pings[i].size(), ok ? fmt::format("{:.2f} ms", rtt.quantile(0.5)) : std::string("-"),
                                         retx, server.empty() ? "" : fmt::format(", server \"{}\"", server));
        }
        result.item_event = "sip_ping";
    }
    const double loss = sent ? 100.0 * static_cast<double>(sent - answered) / static_cast<double>(sent) : 0;
    if (!targets.empty()) {
        if (answered > 0)
            result.metric("rtt_ms", latency.quantile(0.5));
        result.metric("loss_pct", loss);
        // Nodes that answered at least one OPTIONS.
        result.metric("nodes", static_cast<double>(std::count_if(result.items.begin(), result.items.end(),
                                                                 [](const auto& item) { return item.value("answered", 0) > 0; })));
        result.metric("retransmissions", static_cast<double>(retransmissions));
        result.fields["sent"] = sent;
        result.fields["answered"] = answered;
        result.fields["rtt_ms"] = answered ? nlohmann::json(round3(latency.quantile(0.5))) : nlohmann::json();
        result.fields["loss_pct"] = round3(loss);
        result.fields["retransmissions"] = retransmissions;
    }
    std::vector<std::string> parts;
    if (!targets.empty())
        parts.push_back(fmt::format("{}/{} OPTIONS answered{}, loss {:.0f}%", answered, sent,
                                    answered ? fmt::format(", rtt {:.1f} ms", latency.quantile(0.5)) : "", loss));
    if (unresolved == targets.size() && !targets.empty()) {
        result.outcome = Outcome::no_answer;
        result.error = result.items.front().value("error", "");
    } else if (!targets.empty() && answered == 0) {
        result.outcome = Outcome::no_answer;
        result.error = fmt::format("no OPTIONS answered within {} s", options.timeout);
    } else if (answered < sent || unresolved > 0 || rejected) {
        result.outcome = Outcome::negative;
        result.error = rejected ? "a node answered with an error status" : "some nodes did not answer";
    }

    if (!options.impu.empty() && stack && targets.front().error.empty()) {
        const auto check = register_check(*stack, options, targets.front());
        nlohmann::json reg{{"impu", options.impu},
                           {"registered", check.bind.outcome == Outcome::ok},
                           {"status", check.bind.status},
                           {"reason", check.bind.phrase},
                           {"latency_ms", round3(check.bind.latency_ms)},
                           {"algorithm", check.bind.algorithm}};
        if (check.bind.outcome == Outcome::ok) {
            reg["deregistered"] = check.unbind.outcome == Outcome::ok;
            reg["deregister_status"] = check.unbind.status;
            reg["deregister_latency_ms"] = round3(check.unbind.latency_ms);
        }
        result.fields["register"] = reg;
        result.metric("register_ms", check.bind.latency_ms);
        const auto& failed = check.bind.outcome != Outcome::ok ? check.bind : check.unbind;
        if (failed.outcome != Outcome::ok && result.outcome == Outcome::ok) {
            result.outcome = failed.outcome;
            result.error = fmt::format("register check: {}", failed.error.empty() ? failed.phrase : failed.error);
        }
        result.detail += fmt::format("  register {:<23} {} {} in {:.2f} ms{}\n", options.impu, check.bind.status,
                                     check.bind.phrase, check.bind.latency_ms,
                                     check.bind.outcome == Outcome::ok
                                         ? fmt::format(", deregister {} {}", check.unbind.status, check.unbind.phrase)
                                         : fmt::format(" ({})", check.bind.error));
        parts.push_back(fmt::format("register {}", check.bind.outcome == Outcome::ok && check.unbind.outcome == Outcome::ok
                                                       ? "ok" : "FAILED"));
    }

    if (!options.resolve.empty()) {
        try {
            const auto resolved = resolve_in_overlay(options, result);
            result.fields["resolve"] = resolved;
            const auto& bindings = resolved["bindings"];
            result.detail += fmt::format("  resolve {:<24} {} binding(s), served by {} node(s)\n", resolved["impu"].get<std::string>(),
                                         bindings.size(), resolved["served_by"].size());
            for (const auto& b : bindings)
                result.detail += fmt::format("    contact {} (registered through {}, {} s left)\n", b["contact"].get<std::string>(),
                                             b["node"].get<std::string>(), b["expires_in"].get<long long>());
            for (const auto& n : resolved["served_by"])
                result.detail += fmt::format("    stored on {} {}\n", n["id"].get<std::string>(), n["address"].get<std::string>());
            for (const auto& d : resolved["dropped"])
                result.detail += fmt::format("    dropped a value: {} (writer {})\n", d["verdict"].get<std::string>(),
                                             d["writer"].get<std::string>());
            parts.push_back(fmt::format("{} {}", resolved["impu"].get<std::string>(),
                                        bindings.empty() ? "NOT resolvable" : fmt::format("resolves ({} bindings)", bindings.size())));
            if (bindings.empty() && result.outcome == Outcome::ok) {
                result.outcome = Outcome::negative;
                result.error = fmt::format("{} has no valid binding in the overlay", resolved["impu"].get<std::string>());
            }
        } catch (const Failure& failure) {
            if (failure.outcome() == Outcome::usage || failure.outcome() == Outcome::local)
                throw;
            result.outcome = failure.outcome();
            result.error = failure.what();
            parts.push_back(result.error);
        }
    }
    result.summary = fmt::format("{}", fmt::join(parts, "; "));
    if (!result.error.empty() && result.summary.find(result.error) == std::string::npos)
        result.summary = result.error + "; " + result.summary;
    return result;
}

} // namespace imsp2p::probe
