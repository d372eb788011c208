#include "ue/register_options.hpp"

#include "cli/outcome.hpp"
#include "cli/versions.hpp"
#include "sip/instance_id.hpp"
#include "sip/uri.hpp"
#include "ue/sec_agree_options.hpp"
#include "ue/usim_state.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>

namespace imsp2p::ue {
namespace {

[[noreturn]] void usage(const std::string& message)
{
    throw Failure(Outcome::usage, message);
}

bool is_ip_literal(const std::string& host)
{
    unsigned char buffer[16];
    return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

// --local ADDR, ADDR:PORT, [V6] or [V6]:PORT.
void parse_local(const std::string& text, sip::StackConfig& stack)
{
    std::string host = text, port;
    if (!text.empty() && text.front() == '[') {
        const auto close = text.find(']');
        if (close == std::string::npos)
            usage(fmt::format("invalid --local '{}': missing ']'", text));
        host = text.substr(1, close - 1);
        if (close + 1 < text.size()) {
            if (text[close + 1] != ':')
                usage(fmt::format("invalid --local '{}': expected [ADDRESS]:PORT", text));
            port = text.substr(close + 2);
        }
    } else if (std::count(text.begin(), text.end(), ':') == 1) {
        host = text.substr(0, text.find(':'));
        port = text.substr(text.find(':') + 1);
    }
    if (!is_ip_literal(host))
        usage(fmt::format("invalid --local '{}': '{}' is not an IP address", text, host));
    stack.host = host;
    if (!port.empty()) {
        char* end = nullptr;
        const unsigned long value = std::strtoul(port.c_str(), &end, 10);
        if (*end || value == 0 || value > 65535)
            usage(fmt::format("invalid --local '{}': port must be 1-65535", text));
        stack.port = static_cast<unsigned>(value);
    }
}

} // namespace

sip::RegistrationParams params_for(const subscriber::Subscriber& row, const RegisterOptions& options,
                                   const std::string& registrar, const std::string& next_hop)
{
    sip::RegistrationParams params;
    params.impu = row.impus.front();
    params.username = row.impi;
    params.password = row.password;
    if (row.auth == subscriber::AuthScheme::aka)
        params.usim = make_usim(row, std::nullopt); // load mode: SEQ_MS in memory only
    params.registrar = registrar;
    params.next_hop = next_hop;
    params.expires = options.expires;
    params.instance_id = options.instance_id.empty() ? sip::instance_id_for(row.impi) : options.instance_id;
    params.initial_authorization = !options.no_initial_authorization;
    params.user_agent = options.user_agent.empty() ? "imsp2p-ims-register/" + cli::toolkit_version() : options.user_agent;
    return params;
}

RegisterPlan plan_registration(const RegisterOptions& options)
{
    RegisterPlan plan;
    if (options.unregister && options.unregister_all)
        usage("--unregister and --unregister-all exclude each other");
    if (options.load && (options.unregister || options.unregister_all || options.keep))
        usage("load mode (--rate, --count, --duration, --concurrency) cannot be combined with --unregister or --keep");
    if (options.reg_event && !options.keep)
        usage("--reg-event needs --keep (it reports deregistrations while the registration is kept)");
    if (options.load && options.subscribers.empty())
        usage("load mode needs --subscribers FILE");
    if (options.load && options.count == 0 && options.duration == 0)
        usage("load mode needs --count N or --duration SECONDS");

    subscriber::Subscriber self;
    if (!options.subscribers.empty()) {
        plan.subscribers = subscriber::read_subscribers(options.subscribers);
        if (plan.subscribers.empty())
            usage(fmt::format("{}: no subscribers", options.subscribers));
        if (options.load) {
            self = plan.subscribers.front();
        } else {
            if (options.impi.empty())
                usage("--subscribers needs --impi ID to choose a row (or a load option)");
            const auto* row = subscriber::find_subscriber(plan.subscribers, options.impi);
            if (!row)
                usage(fmt::format("no subscriber '{}' in {}", options.impi, options.subscribers));
            self = *row;
        }
        if (!options.impu.empty())
            self.impus = {options.impu};
        if (!options.password.empty())
            self.password = options.password;
    } else if (!options.k.empty()) {
        if (options.impu.empty())
            usage("--k needs --impu URI");
        if (options.op.empty() == options.opc.empty())
            usage("--k needs exactly one of --op and --opc");
        auto hex = [](const std::string& text, const char* what) {
            auto bytes = from_hex(text);
            if (!bytes || bytes->size() != 16)
                usage(fmt::format("{} must be 32 hex digits", what));
            return *bytes;
        };
        self.auth = subscriber::AuthScheme::aka;
        self.impus = {options.impu};
        self.k = hex(options.k, "--k");
        (options.op.empty() ? self.opc : self.op) = hex(options.op.empty() ? options.opc : options.op,
                                                      options.op.empty() ? "--opc" : "--op");
        self.amf = Bytes{0x80, 0x00};
        self.sqn = Bytes(6, 0);
    } else {
        if (options.impu.empty() || options.password.empty())
            usage("missing credentials: give --impu URI and --password, --impu URI and --k/--op, or "
                  "--subscribers FILE --impi ID");
        self.impus = {options.impu};
        self.password = options.password;
    }

    const sip::SipUri impu = sip::parse_sip_uri(self.impus.front(), options.impu.empty() ? "the public identity" : "--impu", true);
    self.impus.front() = sip::canonical_aor(impu);
    if (self.impi.empty())
        self.impi = options.impi.empty() ? impu.user + "@" + impu.host : options.impi;

    const std::string registrar = options.registrar.empty() ? fmt::format("{}:{}", impu.scheme, impu.host) : options.registrar;
    const sip::SipUri registrar_uri = sip::parse_sip_uri(registrar, "--registrar");
    std::optional<sip::SipUri> proxy_uri;
    if (!options.proxy.empty())
        proxy_uri = sip::parse_sip_uri(options.proxy, "--proxy");
    const sip::SipUri& next_hop = proxy_uri ? *proxy_uri : registrar_uri;
    plan.next_hop_display = next_hop.text;

    const std::string transport = sip::resolve_transport(options.transport, next_hop, options.tls);
    plan.stack.transport = transport;
    plan.stack.tls = options.tls;
    plan.stack.transaction_timeout = options.timeout;
    // A completed UDP transaction is kept for T4 (5 s) to absorb retransmitted
    // answers: at 4,000 registrations/s that holds 40,000 transactions (~440 MB).
    // Testbed round trips are far below 1 s, so load mode keeps them 1 s.
    plan.stack.timer_k_ms = options.load ? 1000 : 5000;

    if (!options.local.empty())
        parse_local(options.local, plan.stack);
    else if (const std::string source = sip::source_address_towards(next_hop.host); !source.empty())
        plan.stack.host = source;
    else if (is_ip_literal(next_hop.host) || next_hop.host.find('.') != std::string::npos)
        plan.stack.host = "0.0.0.0";
    else
        usage(fmt::format("cannot tell which local address reaches {}: give --local ADDRESS", next_hop.host));

    // The next hop carries the transport so nta uses the one we bound.
    std::string hop = next_hop.text;
    if (next_hop.transport.empty() && transport != "udp" && next_hop.scheme != "sips")
        hop += ";transport=" + transport;
    plan.params = params_for(self, options, registrar_uri.text, proxy_uri || transport != "udp" ? hop : "");
    if (self.auth == subscriber::AuthScheme::aka && !options.load) {
        plan.usim_state = options.usim_state.empty() ? default_usim_state_path(self.impi)
                                                     : std::optional<std::filesystem::path>(options.usim_state);
        plan.params.usim = make_usim(self, plan.usim_state);
    }
    if (options.sec_agree)
        plan.params.security_client = security_offer(options, self);
    plan.contact_user = impu.user;
    if (!options.contact.empty())
        plan.explicit_contact = sip::parse_sip_uri(options.contact, "--contact").text;
    return plan;
}

} // namespace imsp2p::ue
