#include "call/call_options.hpp"

#include "cli/outcome.hpp"
#include "cli/versions.hpp"
#include "sip/host_port.hpp"
#include "sip/stack.hpp"
#include "sip/uri.hpp"
#include "subscriber/subscriber.hpp"
#include "ue/register_command.hpp"
#include "ue/usim_state.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>


namespace imsp2p::call {
namespace {

[[noreturn]] void usage(const std::string& message)
{
    throw Failure(Outcome::usage, message);
}

std::string without_brackets(std::string text)
{
    if (text.size() >= 2 && text.front() == '<' && text.back() == '>')
        text = text.substr(1, text.size() - 2);
    return text;
}

std::string string_field(const nlohmann::json& object, const char* key)
{
    const auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> list_field(const nlohmann::json& object, const char* key)
{
    std::vector<std::string> values;
    const auto it = object.find(key);
    if (it != object.end() && it->is_array())
        for (const auto& value : *it)
            if (value.is_string())
                values.push_back(without_brackets(value.get<std::string>()));
    return values;
}

void check_codec(const std::string& codec)
{
    if (!codec.empty() && codec != "pcmu" && codec != "pcma")
        usage(fmt::format("unknown --codec '{}' (supported: pcmu, pcma)", codec));
}

// The media and session options that exclude each other or a mode.
void check_media(const CallOptions& o)
{
    const bool answer_mode = !o.listen.empty();
    const bool load_mode = o.count || o.run_time > 0;
    if (!o.wav.empty() && o.media == "none")
        usage("--wav sends a WAV file over RTP: not with --media none");
    if (!o.wav.empty() && o.echo)
        usage("--wav and --echo exclude each other (the answerer sends one or the other)");
    if (!o.wav.empty() && (load_mode || !o.message.empty()))
        usage("--wav needs a call with media: not with load mode or --message");
    if (o.update && answer_mode)
        usage("--update makes the caller send an UPDATE; an answerer answers UPDATEs without it");
    if ((o.update || o.precondition) && (load_mode || !o.message.empty()))
        usage("--update and --precondition shape one call: not with load mode or --message");
    if (o.rtcp_interval < 0 || (o.rtcp_interval > 0 && o.rtcp_interval < 0.1))
        usage(fmt::format("--rtcp-interval {}: give 0 (no RTCP) or at least 0.1 s", o.rtcp_interval));
}

} // namespace

CallPlan plan_call(const CallOptions& o)
{
    CallPlan plan;
    check_codec(o.codec);
    if (o.media != "tone" && o.media != "none")
        usage(fmt::format("unknown --media '{}' (supported: tone, none)", o.media));
    check_media(o);
    const bool answer_mode = !o.listen.empty();
    if (answer_mode) {
        plan.mode = CallPlan::Mode::answer;
        if (!o.target.empty())
            usage("--listen answers calls: it takes no target URI");
        if (!o.message.empty())
            usage("--message sends a MESSAGE: it cannot be combined with --listen");
        if (o.count || o.rate > 0 || o.concurrency || o.run_time > 0 || o.stats_interval > 0)
            usage("load mode (--count, --run-time, --rate, --concurrency, --stats-interval) places calls: it cannot be combined with --listen");
        if ((o.answer ? 1 : 0) + (o.reject ? 1 : 0) + (o.redirect.empty() ? 0 : 1) > 1)
            usage("--answer, --reject and --redirect exclude each other");
        if (!o.redirect.empty())
            sip::parse_sip_uri(o.redirect, "--redirect");
        if (o.reject && (o.reject < 300 || o.reject > 699))
            usage(fmt::format("--reject {}: give a final status code 300-699", o.reject));
        const sip::HostPort listen = sip::parse_host_port(o.listen, "--listen");
        plan.host = listen.host;
        plan.port = listen.port ? listen.port : 5060;
        if (!o.tls_listen.empty()) {
            const sip::HostPort tls = sip::parse_host_port(o.tls_listen, "--tls-listen");
            sip::check_tls_options(o.tls, true);
            plan.tls_host = tls.host;
            plan.tls_port = tls.port ? tls.port : 5061;
            plan.tls_options = o.tls;
        }
    } else {
        if (!o.tls_listen.empty())
            usage("--tls-listen answers calls over TLS: it needs --listen ADDRESS");
        if (o.answer || o.reject || o.max_calls || o.echo || o.answer_delay > 0 || !o.redirect.empty())
            usage("--answer, --reject, --redirect, --answer-delay, --max-calls and --echo need --listen ADDRESS");
        plan.mode = o.message.empty() ? CallPlan::Mode::call : CallPlan::Mode::message;
        if ((o.rate > 0 || o.concurrency || o.stats_interval > 0) && !o.count && o.run_time <= 0)
            usage("load mode (--rate, --concurrency, --stats-interval) needs --count N or --run-time SECONDS");
        if (o.count || o.run_time > 0) {
            if (!o.message.empty())
                usage("load mode (--count, --run-time) places calls: it cannot be combined with --message");
            plan.mode = CallPlan::Mode::load;
        }
        // Load mode with --subscribers and no --impi: the file's rows are the callers (and the callees without a target).
        plan.callers_from_file = plan.mode == CallPlan::Mode::load && !o.subscribers.empty() && o.impi.empty() &&
                                 o.registration.empty();
        if (o.target.empty() && !plan.callers_from_file)
            usage("missing the URI to call (e.g. sip:bob@ims.test), or --listen ADDRESS to answer calls");
        if (!o.target.empty())
            plan.target = sip::parse_sip_uri(o.target, "the target URI").text;
    }

    // Identity and credentials: a subscriber row, --impu/--password, a registration.
    nlohmann::json registration;
    if (!o.registration.empty()) {
        registration = ue::read_registration(o.registration);
        plan.impu = string_field(registration, "impu");
        plan.impi = string_field(registration, "impi");
        plan.route = list_field(registration, "service_route");
        const auto associated = list_field(registration, "p_associated_uri");
        if (!associated.empty())
            plan.preferred_identity = associated.front();
        plan.proxy = string_field(registration, "proxy");
    }
    if (plan.callers_from_file) {
        for (const auto& row : subscriber::read_subscribers(o.subscribers)) {
            if (row.impus.empty())
                continue;
            if (row.auth != subscriber::AuthScheme::md5)
                usage(fmt::format("{}:{}: subscriber '{}' uses AKA: load mode answers Digest MD5 challenges only",
                                  o.subscribers, row.line, row.impi));
            const sip::SipUri impu = sip::parse_sip_uri(row.impus.front(), fmt::format("{}:{}: the IMPU", o.subscribers, row.line), true);
            plan.callers.push_back({sip::canonical_aor(impu), row.impi, row.password});
        }
        if (plan.callers.empty())
            usage(fmt::format("no subscriber with a public identity in {}", o.subscribers));
        if (o.impu.empty()) { // the first row stands for the run (Contact user, the summary's caller)
            plan.impu = plan.callers.front().impu;
            plan.impi = plan.callers.front().impi;
            plan.password = plan.callers.front().password;
        }
    } else if (!o.subscribers.empty()) {
        const auto rows = subscriber::read_subscribers(o.subscribers);
        const std::string impi = o.impi.empty() ? plan.impi : o.impi;
        if (impi.empty())
            usage("--subscribers needs --impi ID to choose a row");
        const auto* row = subscriber::find_subscriber(rows, impi);
        if (!row)
            usage(fmt::format("no subscriber '{}' in {}", impi, o.subscribers));
        if (row->auth == subscriber::AuthScheme::aka) {
            if (plan.mode == CallPlan::Mode::load)
                usage(fmt::format("subscriber '{}' uses AKA: load mode answers Digest MD5 challenges only", impi));
            plan.usim_state = o.usim_state.empty() ? ue::default_usim_state_path(row->impi)
                                                   : std::optional<std::filesystem::path>(o.usim_state);
            plan.usim = ue::make_usim(*row, plan.usim_state);
        }
        plan.impi = row->impi;
        plan.password = row->password;
        if (plan.impu.empty() && !row->impus.empty())
            plan.impu = row->impus.front();
    }
    if (!o.impu.empty())
        plan.impu = o.impu;
    if (!o.impi.empty())
        plan.impi = o.impi;
    if (!o.password.empty())
        plan.password = o.password;
    if (!o.preferred_identity.empty())
        plan.preferred_identity = sip::parse_sip_uri(o.preferred_identity, "--preferred-identity").text;
    if (!plan.impu.empty()) {
        const sip::SipUri impu = sip::parse_sip_uri(plan.impu, "the public identity", true);
        plan.impu = sip::canonical_aor(impu);
        plan.contact_user = impu.user;
        if (plan.impi.empty())
            plan.impi = impu.user + "@" + impu.host;
    } else if (plan.mode != CallPlan::Mode::answer) {
        usage("missing the caller's identity: give --impu URI, --subscribers FILE --impi ID, or --registration FILE");
    }
    if (plan.preferred_identity.empty() && plan.mode != CallPlan::Mode::answer)
        plan.preferred_identity = plan.impu;
    if (!plan.password.empty() && plan.impi.empty())
        usage("--password needs --impi or --impu");

    if (!o.proxy.empty())
        plan.proxy = sip::parse_sip_uri(o.proxy, "--proxy").text;
    // The transport of our requests: TLS towards a sips: or transport=tls next hop, else UDP.
    if (!answer_mode) {
        const sip::SipUri hop = sip::parse_sip_uri(plan.proxy.empty() ? plan.target : plan.proxy,
                                                   plan.proxy.empty() ? "the target URI" : "the proxy");
        if (!hop.transport.empty() && hop.transport != "udp" && hop.transport != "tcp" && hop.transport != "tls")
            usage(fmt::format("{}: transport={} (ims-call speaks SIP over UDP, TCP and TLS)", hop.text, hop.transport));
        plan.tls = sip::resolve_transport("", hop, o.tls) == "tls";
        plan.tls_options = o.tls;
    } else if (plan.tls_host.empty() && (!o.tls.ca_file.empty() || !o.tls.cert_file.empty() || !o.tls.key_file.empty() || o.tls.insecure)) {
        usage("--tls-ca, --tls-cert, --tls-key and --insecure need TLS: --tls-listen ADDRESS[:PORT] in answer mode");
    }
    for (const auto& route : plan.route)
        sip::parse_sip_uri(route, "the registration's service_route");
    if (plan.mode != CallPlan::Mode::answer && plan.proxy.empty() && plan.target.empty())
        usage("callees taken from --subscribers need --proxy URI (or a target URI)");

    // The local address: --local, the registration's, or the one that reaches the next hop.
    if (!answer_mode) {
        if (!o.local.empty()) {
            const sip::HostPort local = sip::parse_host_port(o.local, "--local");
            plan.host = local.host;
            plan.port = local.port;
        } else if (const std::string local = string_field(registration, "local"); !local.empty()) {
            const sip::HostPort bound = sip::parse_host_port(local, "the registration's local address");
            plan.host = bound.host;
            plan.port = bound.port;
            plan.port_from_registration = true;
        } else {
            const sip::SipUri hop = sip::parse_sip_uri(plan.proxy.empty() ? plan.target : plan.proxy, "the next hop");
            plan.host = sip::source_address_towards(hop.host);
            if (plan.host.empty())
                usage(fmt::format("cannot tell which local address reaches {}: give --local ADDRESS or --proxy URI", hop.host));
        }
    }
    if (!o.wav.empty())
        plan.wav = read_wav(o.wav);
    plan.user_agent = o.user_agent.empty() ? "imsp2p-ims-call/" + cli::toolkit_version() : o.user_agent;
    return plan;
}

} // namespace imsp2p::call
