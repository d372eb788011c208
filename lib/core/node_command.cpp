#include "core/node_command.hpp"

#include "core/control_socket.hpp"
#include "core/load_publisher.hpp"
#include "core/load_record.hpp"
#include "core/location.hpp"
#include "core/metrics_server.hpp"
#include "core/node_metrics.hpp"
#include "core/node_overlay.hpp"
#include "core/proxy.hpp"
#include "core/psi_command.hpp"
#include "core/reg_event_server.hpp"
#include "core/registrar.hpp"
#include "secagree/ipsec_params.hpp"
#include "core/request_router.hpp"
#include "hss/subscriber_store.hpp"
#include "sip/host_port.hpp"
#include "sip/stack.hpp"
#include "sip/uri.hpp"
#include "subscriber/subscriber.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <optional>
#include <system_error>

namespace imsp2p::core {
namespace {

constexpr unsigned default_port = 5060;
constexpr unsigned default_tls_port = 5061;
constexpr unsigned tick_ms = 100;          // how soon a signal is noticed
constexpr unsigned purge_every_ticks = 100; // expired bindings and challenges go every 10 s
constexpr unsigned reg_event_every_ticks = 20; // subscribers learn of expired bindings within 2 s

std::atomic<int> stop_signal{0};

void on_stop_signal(int signal)
{
    stop_signal = signal;
}

[[noreturn]] void usage(const std::string& message)
{
    throw Failure(Outcome::usage, message);
}

void check(const NodeOptions& o)
{
    for (const auto& [value, name] : {std::pair{&o.listen, "--listen"}, {&o.subscribers, "--subscribers"},
                                      {&o.state_dir, "--state-dir"}, {&o.domain, "--domain"}})
        if (value->empty())
            usage(fmt::format("{} is required (see p2p-node --help)", name));
    if (o.domain.find_first_of(" \t\"<>;,@:/") != std::string::npos)
        usage(fmt::format("invalid --domain '{}': expected a domain name such as ims.test", o.domain));
    if (o.min_expires > o.max_expires)
        usage(fmt::format("--min-expires {} is above --max-expires {}", o.min_expires, o.max_expires));
    check_shed_options(o.shed);
    // Three intervals must fit in the longest life a load record may sign.
    if (o.load_interval == 0 || 3 * static_cast<std::int64_t>(o.load_interval) > max_load_lifetime)
        usage(fmt::format("invalid --load-interval {}: give 1 to {} seconds", o.load_interval, max_load_lifetime / 3));
}

// --tls-listen and its certificate, checked.
void set_tls(const NodeOptions& options, sip::StackConfig& config)
{
    const auto& tls = options.tls;
    if (options.tls_listen.empty()) {
        if (!tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty() || tls.insecure)
            usage("--tls-ca, --tls-cert, --tls-key and --insecure need --tls-listen ADDRESS[:PORT]");
        return;
    }
    const auto listen = sip::parse_host_port(options.tls_listen, "--tls-listen");
    sip::check_tls_options(tls, true);
    config.tls_host = listen.host;
    config.tls_port = listen.port ? listen.port : default_tls_port;
    config.tls = tls;
}

// --peer DOMAIN=SIP-URI, checked.
std::map<std::string, std::string> parse_peers(const std::vector<std::string>& peers)
{
    std::map<std::string, std::string> out;
    for (const auto& peer : peers) {
        const auto equals = peer.find('=');
        if (equals == std::string::npos || equals == 0)
            usage(fmt::format("invalid --peer '{}': expected DOMAIN=SIP-URI, e.g. kam.test=sip:127.0.18.5:5060", peer));
        std::string domain = peer.substr(0, equals);
        std::transform(domain.begin(), domain.end(), domain.begin(), [](unsigned char c) { return std::tolower(c); });
        sip::parse_sip_uri(peer.substr(equals + 1), "--peer " + domain);
        out[domain] = peer.substr(equals + 1);
    }
    return out;
}

nlohmann::json bindings_json(const std::vector<Binding>& bindings)
{
    const auto now = Clock::now();
    nlohmann::json out = nlohmann::json::array();
    for (const auto& binding : bindings)
        out.push_back({{"contact", binding.contact},
                       {"expires", std::max<long long>(0, std::chrono::ceil<std::chrono::seconds>(binding.expires - now).count())},
                       {"instance_id", binding.instance.empty() ? nlohmann::json() : nlohmann::json(binding.instance)},
                       {"path", binding.path},
                       {"received", binding.received}});
    return out;
}

// One event per registration outcome: JSON always, text at -v.
void print_event(cli::Output& out, int verbosity, const RegistrarEvent& event)
{
    const nlohmann::json impi = event.impi.empty() ? nlohmann::json() : nlohmann::json(event.impi);
    const std::string who = fmt::format("{} ({}) from {}", event.impu, event.impi.empty() ? "no username" : event.impi, event.source);
    std::string name, text;
    nlohmann::json fields{{"impi", impi}, {"impu", event.impu}, {"source", event.source}};
    switch (event.kind) {
    case RegistrarEvent::Kind::registered:
    case RegistrarEvent::Kind::unregistered:
        name = event.kind == RegistrarEvent::Kind::registered ? "registered" : "unregistered";
        fields["algorithm"] = event.algorithm;
        fields["bindings"] = bindings_json(event.bindings);
        text = fmt::format("{} {}: {} binding(s), {}", name, who, event.bindings.size(), event.algorithm);
        break;
    case RegistrarEvent::Kind::auth_failed:
        name = "auth_failed";
        fields["status"] = event.status;
        fields["reason"] = event.reason;
        text = fmt::format("auth_failed {}: {} {}", who, event.status, event.reason);
        break;
    case RegistrarEvent::Kind::resync:
        name = "resync";
        fields["seq_ms"] = event.seq_ms;
        text = fmt::format("resync {}: SEQ continues after {}", who, event.seq_ms);
        break;
    }
    out.event(name, fields, out.json() || verbosity > 0 ? text : std::string());
}

void record_registration(NodeMetrics& metrics, const RegistrarEvent& event)
{
    switch (event.kind) {
    case RegistrarEvent::Kind::registered: metrics.registration("registered"); break;
    case RegistrarEvent::Kind::unregistered: metrics.registration("unregistered"); break;
    case RegistrarEvent::Kind::auth_failed: metrics.registration("auth_failed"); break;
    case RegistrarEvent::Kind::resync: metrics.registration("resync"); return; // a 401 follows, no final answer yet
    }
    metrics.transaction("REGISTER", event.status);
}

// The commands of the control socket (`p2p-node deregister`, `p2p-node psi`).
void serve_control(const nlohmann::json& request, ControlSocket::Reply reply, RegEventServer& reg_event,
                   LocationService& location, hss::SubscriberStore& store, cli::Output& out)
{
    const std::string command = request.value("command", "");
    if (command == "psi") {
        serve_psi(request, std::move(reply), location, store, out);
        return;
    }
    if (command != "deregister") {
        reply({{"ok", false}, {"error", fmt::format("unknown command '{}'", command)}});
        return;
    }
    const std::string impu = request.value("impu", "");
    const std::string reason = request.value("reason", "deactivated");
    std::string aor;
    try {
        aor = sip::canonical_aor(sip::parse_sip_uri(impu, "impu", true));
    } catch (const Failure& failure) {
        reply({{"ok", false}, {"error", failure.what()}});
        return;
    }
    reg_event.deregister(aor, reason, [reply, aor, reason, &out](std::size_t removed, const std::string& error) {
        if (!error.empty()) {
            reply({{"ok", false}, {"error", error}});
            return;
        }
        out.event("deregistered", {{"impu", aor}, {"reason", reason}, {"bindings_removed", removed}},
                  fmt::format("deregistered {} by the network ({}): {} binding(s) removed", aor, reason, removed));
        reply({{"ok", true}, {"impu", aor}, {"reason", reason}, {"bindings_removed", removed}});
    });
}

} // namespace

std::filesystem::path control_socket_path(const std::string& state_dir)
{
    return std::filesystem::path(state_dir) / "control.sock";
}

Outcome run_deregister(const DeregisterOptions& options, cli::Output& out, double timeout_s)
{
    if (options.state_dir.empty())
        usage("--state-dir is required: the state directory of the running node");
    sip::parse_sip_uri(options.impu, "IMPU", true);
    if (options.reason != "deactivated" && options.reason != "rejected")
        usage(fmt::format("invalid --reason '{}': expected deactivated or rejected", options.reason));
    const auto answer = control_request(control_socket_path(options.state_dir),
                                        {{"command", "deregister"}, {"impu", options.impu}, {"reason", options.reason}}, timeout_s);
    if (!answer.value("ok", false))
        throw Failure(Outcome::negative, fmt::format("the node refused: {}", answer.value("error", "no reason given")));
    const auto removed = answer.value("bindings_removed", 0u);
    out.event("deregistered", {{"impu", answer.value("impu", options.impu)}, {"reason", options.reason}, {"bindings_removed", removed}},
              fmt::format("deregistered {} ({}): {} binding(s) removed", answer.value("impu", options.impu), options.reason, removed));
    return Outcome::ok;
}

Outcome run_node(const NodeOptions& options, cli::Output& out, int verbosity)
{
    check(options);
    const auto listen = sip::parse_host_port(options.listen, "--listen");
    const auto peers = parse_peers(options.peers); // checked before anything starts
    check_overlay_options(options.overlay);
    std::optional<sip::HostPort> metrics_address;
    if (!options.metrics.empty()) {
        metrics_address = sip::parse_host_port(options.metrics, "--metrics");
        if (!metrics_address->port)
            usage(fmt::format("invalid --metrics '{}': give ADDRESS:PORT, e.g. 127.0.1.11:9100", options.metrics));
    }
    const auto rows = subscriber::read_subscribers(options.subscribers);

    std::error_code error;
    std::filesystem::create_directories(options.state_dir, error);
    if (error || !std::filesystem::is_directory(options.state_dir))
        throw Failure(Outcome::local, fmt::format("cannot use state directory {}: {}", options.state_dir,
                                                  error ? error.message() : "not a directory"));
    hss::SubscriberStore store(std::filesystem::path(options.state_dir) / "hss.sqlite");
    store.import(rows);

    sip::StackConfig config;
    config.transport = options.transport == "tcp" ? "tcp" : "udp";
    config.also_tcp = options.transport == "both";
    config.host = listen.host;
    config.port = listen.port ? listen.port : default_port;
    config.transaction_timeout = options.transaction_timeout;
    config.proxy = true;
    set_tls(options, config);
    sip::SipStack stack(config);

    RegistrarConfig registrar_config;
    registrar_config.auth.realm = options.domain;
    registrar_config.auth.ind = options.ind;
    registrar_config.auth.aka_version = options.aka_version;
    registrar_config.auth.offer_sha256 = options.digest_algorithm == "sha-256";
    registrar_config.min_expires = options.min_expires;
    registrar_config.max_expires = options.max_expires;
    registrar_config.default_expires = std::clamp(3600u, options.min_expires, options.max_expires);
    if (options.sec_agree) {
        const auto [port_c, port_s] = secagree::parse_port_pair(options.sec_agree_ports, "--sec-agree-ports");
        registrar_config.sec_agree = SecAgreeConfig{port_c, port_s};
        spdlog::warn("sec-agree: header exchange only; p2p-node installs no IPsec SAs, so its ports {}:{} are "
                     "announced but not protected", port_c, port_s);
    }

    // A failed write of an event ends the run (exit 5): the loop stops, the
    // failure is thrown once it has.
    std::optional<Failure> output_failure;
    auto emit = [&](const std::string& name, const nlohmann::json& fields, const std::string& text) {
        try {
            out.event(name, fields, text);
        } catch (const Failure& failure) {
            if (!output_failure)
                output_failure = failure;
            stack.stop();
        }
    };
    MemoryLocation memory;
    std::unique_ptr<NodeOverlay> overlay;
    if (!options.overlay.dht.empty()) {
        overlay = std::make_unique<NodeOverlay>(options.overlay, options.state_dir, stack, [&](const DroppedValue& dropped) {
            emit("dropped_forged_value",
                 {{"aor", dropped.aor}, {"verdict", dropped.verdict}, {"why", dropped.why}, {"writer", dropped.writer}},
                 fmt::format("dropped a value for {} from the overlay: {} ({}; writer '{}')", dropped.aor, dropped.verdict,
                             dropped.why, dropped.writer));
        });
        const auto stats = overlay->overlay().stats();
        emit("joined",
             {{"node", options.overlay.node_name}, {"node_id", stats.node_id}, {"address", overlay->overlay().address()},
              {"port", overlay->overlay().port()}, {"network_id", options.overlay.network_id},
              {"bootstrap", options.overlay.bootstrap}},
             fmt::format("overlay node {} ({}) on {}:{}, network {:#x}, bootstrap {}", options.overlay.node_name, stats.node_id,
                         overlay->overlay().address(), overlay->overlay().port(), options.overlay.network_id,
                         options.overlay.bootstrap.empty() ? "none" : fmt::format("{}", fmt::join(options.overlay.bootstrap, ", "))));
        if (overlay->simulated_nodes() > 0) {
            const auto ready = overlay->wait_ready(std::chrono::seconds(120));
            const auto nodes = overlay->simulated_nodes() + 1;
            emit("overlay_ready",
                 {{"nodes", nodes}, {"ready", ready.ready}, {"probes", ready.probes}, {"found", ready.found},
                  {"elapsed_ms", ready.took.count()}},
                 fmt::format("simulated overlay of {} nodes {} after {} ms ({} of {} probe lookups found their record)", nodes,
                             ready.ready ? "ready" : "NOT ready", ready.took.count(), ready.found, ready.probes));
        }
    }
    NodeMetrics metrics;
    MeteredLocation location(overlay ? overlay->location() : static_cast<LocationService&>(memory), metrics);
    std::unique_ptr<MetricsServer> metrics_server;
    if (metrics_address)
        metrics_server = std::make_unique<MetricsServer>(metrics_address->host, metrics_address->port, [&metrics, &overlay] {
            if (!overlay)
                return metrics.render({});
            return metrics.render([&overlay] {
                const auto stats = overlay->overlay().stats();
                return OverlayGauges{stats.good_nodes, stats.dubious_nodes, stats.stored_values};
            });
        });
    RegEventServer reg_event(stack, location);
    Shedder shedder(options.shed, options.overlay.node_name);
    const std::string self_uri = fmt::format("sip:{}{}{}:{}", listen.host.find(':') != std::string::npos ? "[" : "",
                                             listen.host, listen.host.find(':') != std::string::npos ? "]" : "",
                                             stack.local_port());
    std::unique_ptr<LoadPublisher> publisher;
    if (overlay)
        publisher = std::make_unique<LoadPublisher>(
            *overlay, shedder, self_uri, std::chrono::seconds(options.load_interval),
            [&](const CoreLoad& load, std::size_t nodes) {
                auto fields = load_json(load);
                fields["peak"] = shedder.peak();
                fields["redirected"] = shedder.redirected();
                fields["rejected"] = shedder.rejected();
                fields["nodes_seen"] = nodes;
                emit("load", fields,
                     out.json() || verbosity > 0
                         ? fmt::format("load: {:.1f} initial requests/s{}, {} registration(s), CPU {:.0f}%{}; peak {}/s; "
                                       "{} redirected, {} rejected; {} node(s) in the overlay's load records",
                                       load.rate, load.cap > 0 ? fmt::format(" (cap {})", load.cap) : "", load.registrations,
                                       load.cpu * 100, load.overloaded ? ", OVERLOADED" : "", shedder.peak(),
                                       shedder.redirected(), shedder.rejected(), nodes)
                         : std::string());
            });
    Registrar registrar(stack, store, location, registrar_config, [&](const RegistrarEvent& event) {
        if (event.kind == RegistrarEvent::Kind::registered || event.kind == RegistrarEvent::Kind::unregistered)
            reg_event.bindings_changed(event.impu, event.bindings);
        if (publisher && event.kind == RegistrarEvent::Kind::registered)
            publisher->registered(event.impu, event.bindings);
        if (publisher && event.kind == RegistrarEvent::Kind::unregistered)
            publisher->unregistered(event.impu);
        record_registration(metrics, event);
        try {
            print_event(out, verbosity, event);
        } catch (const Failure& failure) {
            if (!output_failure)
                output_failure = failure;
            stack.stop();
        }
    });

    RequestRouter router(stack, registrar);
    if (options.shed.max_rate > 0)
        router.admit_with([&shedder](nta_incoming_s*& irq, const sip_s* sip) { return shedder.handle(irq, sip); });
    router.serve_reg_event([&](nta_incoming_s* irq, const sip_s* sip) { reg_event.handle(irq, sip); });
    ProxyConfig proxy_config;
    proxy_config.domain = options.domain;
    proxy_config.peers = peers;
    proxy_config.auth = registrar_config.auth;
    Proxy proxy(stack, store, location, proxy_config, [&](const ProxyEvent& event) {
        metrics.transaction(event.method, event.status);
        try {
            out.event("routed",
                      {{"method", event.method}, {"target", event.target}, {"next_hop", event.next_hop},
                       {"source", event.source}, {"status", event.status}},
                      out.json() || verbosity > 0 ? fmt::format("routed {} from {} for {} to {}: {}", event.method, event.source,
                                                                event.target, event.next_hop.empty() ? "(answered here)" : event.next_hop,
                                                                event.status)
                                                  : std::string());
        } catch (const Failure& failure) {
            if (!output_failure)
                output_failure = failure;
            stack.stop();
        }
    });
    router.serve_proxy([&](nta_incoming_s* irq, const sip_s* sip) { proxy.handle(irq, sip); });
    ControlSocket control(stack, control_socket_path(options.state_dir),
                          [&](const nlohmann::json& request, ControlSocket::Reply reply) {
                              serve_control(request, std::move(reply), reg_event, location, store, out);
                          });

    std::vector<std::string> transports{config.transport};
    if (config.also_tcp)
        transports.emplace_back("tcp");
    const bool v6 = listen.host.find(':') != std::string::npos;
    nlohmann::json listening{{"address", listen.host}, {"port", stack.local_port()}, {"transports", transports},
                             {"domain", options.domain}, {"ind", options.ind}, {"subscribers", rows.size()},
                             {"service_route", registrar.service_route()}};
    std::string tls_text;
    if (stack.tls_port()) {
        listening["tls"] = {{"address", config.tls_host}, {"port", stack.tls_port()}, {"verify", !options.tls.insecure}};
        tls_text = fmt::format(", TLS on {}", sip::host_port_text(config.tls_host, stack.tls_port()));
    }
    out.event("listening", listening,
              fmt::format("listening on {}{}{}:{} ({}){} for {}, IND {}, {} subscriber(s)", v6 ? "[" : "", listen.host,
                          v6 ? "]" : "", stack.local_port(), fmt::join(transports, ", "), tls_text, options.domain,
                          options.ind, rows.size()));

    stop_signal = 0;
    std::signal(SIGINT, on_stop_signal);
    std::signal(SIGTERM, on_stop_signal);
    sip::Timer tick(stack);
    unsigned ticks = 0;
    std::size_t bad_messages = 0;
    std::pair<unsigned, unsigned> peers_seen{0, 0};
    std::function<void()> housekeeping = [&] {
        if (stop_signal) {
            spdlog::info("signal {}: stopping", stop_signal.load());
            stack.stop();
            return;
        }
        if (publisher)
            publisher->tick(std::chrono::steady_clock::now());
        if (++ticks % reg_event_every_ticks == 0)
            reg_event.poll();
        if (ticks % purge_every_ticks == 0) {
            // One line per period, not per message: a flood must not flood the log.
            const std::size_t bad_now = stack.stats().bad_messages;
            if (bad_now > bad_messages)
                spdlog::warn("dropped {} malformed SIP message(s) in the last {} s ({} since start)", bad_now - bad_messages,
                             purge_every_ticks * tick_ms / 1000, bad_now);
            bad_messages = bad_now;
            memory.purge();
            registrar.authenticator().purge();
            // A burst of requests (a flood, a registration storm) leaves
            // glibc holding the freed transaction memory in its arenas: after
            // 160,000 broken requests RSS stood at 240 MB with 6 MB in use.
            // Giving free pages back every period keeps RSS near what is used.
            malloc_trim(0);
            if (overlay) {
                const auto stats = overlay->overlay().stats();
                if (stats.good_nodes != peers_seen.first || stats.dubious_nodes != peers_seen.second)
                    emit("overlay_peers",
                         {{"good", stats.good_nodes}, {"dubious", stats.dubious_nodes}, {"stored_values", stats.stored_values}},
                         out.json() || verbosity > 0 ? fmt::format("overlay: {} good and {} dubious node(s), {} value(s) stored",
                                                                   stats.good_nodes, stats.dubious_nodes, stats.stored_values)
                                                     : std::string());
                peers_seen = {stats.good_nodes, stats.dubious_nodes};
            }
        }
        tick.start(tick_ms, housekeeping);
    };
    tick.start(tick_ms, housekeeping);
    stack.run();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    if (output_failure)
        throw *output_failure;
    return Outcome::ok;
}

} // namespace imsp2p::core
