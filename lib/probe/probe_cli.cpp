#include "probe/probe_cli.hpp"

#include "license/credential_cli.hpp"
#include "probe/report.hpp"
#include "probe/testbed_file.hpp"
#include "sip/trace_option.hpp"
#include "swarm/swarm_session.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <future>
#include <thread>

namespace imsp2p::probe {
namespace {

Outcome outcome_of_code(int code)
{
    switch (code) {
    case 0: return Outcome::ok;
    case 1: return Outcome::negative;
    case 2: return Outcome::usage;
    case 3: return Outcome::no_answer;
    case 4: return Outcome::auth;
    default: return Outcome::local;
    }
}

// A probe that failed as a whole (e.g. a bind error) still gets its table row.
ProbeResult guarded(const std::string& kind, const std::string& target, const std::function<ProbeResult()>& probe)
{
    try {
        return probe();
    } catch (const Failure& failure) {
        ProbeResult result;
        result.probe = kind;
        result.target = target;
        result.outcome = failure.outcome();
        result.error = failure.what();
        result.summary = result.error;
        return result;
    } catch (const std::exception& error) {
        ProbeResult result;
        result.probe = kind;
        result.target = target;
        result.outcome = Outcome::local;
        result.error = fmt::format("internal error: {}", error.what());
        result.summary = result.error;
        return result;
    }
}

void sleep_interruptible(double seconds)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    while (std::chrono::steady_clock::now() < until && !swarm::stop_requested())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

} // namespace

std::function<ProbeResult()> testbed_probe(const TestbedEntry& entry, double default_timeout, const std::string& file)
{
    CLI::App app(entry.kind, entry.kind);
    auto dht = std::make_shared<DhtProbeOptions>();
    auto sip = std::make_shared<SipProbeOptions>();
    auto swarm = std::make_shared<SwarmProbeOptions>();
    auto license = std::make_shared<LicenseProbeOptions>();
    auto core = std::make_shared<CoreProbeOptions>();
    double timeout = entry.kind == "swarm" ? std::max(default_timeout, 10.0) : default_timeout;
    if (entry.kind == "dht")
        add_dht_options(app, *dht);
    else if (entry.kind == "sip")
        add_sip_options(app, *sip);
    else if (entry.kind == "swarm")
        add_swarm_options(app, *swarm);
    else if (entry.kind == "core")
        add_core_options(app, *core);
    else
        add_license_options(app, *license);
    app.add_option("--timeout", timeout)->check(cli::positive());
    std::vector<std::string> args(entry.args.rbegin(), entry.args.rend()); // CLI11 takes them reversed
    try {
        app.parse(args);
    } catch (const CLI::ParseError& error) {
        throw Failure(Outcome::usage, fmt::format("--testbed {}: [{}.{}]: {}", file, entry.kind, entry.name, error.what()));
    }
    // Checked now, so a bad entry stops the run before any probe starts.
    if (entry.kind == "dht") {
        dht->timeout = timeout;
        check(*dht);
        return [dht] { return probe_dht(*dht); };
    }
    if (entry.kind == "sip") {
        sip->timeout = timeout;
        check(*sip);
        return [sip] { return probe_sip(*sip); };
    }
    if (entry.kind == "swarm") {
        swarm->timeout = timeout;
        check(*swarm);
        return [swarm] { return probe_swarm(*swarm); };
    }
    if (entry.kind == "core") {
        core->timeout = timeout;
        check(*core);
        return [core] { return probe_core(*core); };
    }
    license->timeout = timeout;
    check(*license);
    return [license] { return probe_license(*license); };
}

void add_dht_options(CLI::App& app, DhtProbeOptions& o)
{
    app.add_option("--bootstrap", o.bootstrap, "HOST:PORT of an overlay node to join through (repeatable)")->type_name("HOST:PORT");
    app.add_option("--network-id", o.network_id, "The overlay's network id")->type_name("N");
    app.add_option("--bind", o.bind, "Local IPv4 address of the probe's short-lived DHT node")
        ->type_name("ADDR")
        ->capture_default_str();
    app.add_option("--lookups", o.lookups, "Lookups of random keys to time (p50/p99)")
        ->type_name("N")
        ->check(CLI::Range(0u, 10000u))
        ->capture_default_str();
    app.add_flag("--crawl", o.crawl, "Enumerate the overlay's nodes and list them (id, address, RTT)");
    app.add_option("--max-nodes", o.max_nodes, "Stop crawling after N nodes")
        ->type_name("N")
        ->check(CLI::Range(1u, 1000000u))
        ->capture_default_str();
    app.add_option("--crawl-time", o.crawl_time, "Stop crawling after SECONDS")
        ->type_name("SECONDS")
        ->check(cli::positive())
        ->capture_default_str();
}

void add_sip_options(CLI::App& app, SipProbeOptions& o)
{
    app.add_option(sip_positional, o.uris, "SIP URIs of the nodes to ping with OPTIONS")->type_name("URI");
    sip::add_trace_option(app);
    app.add_option("--count", o.count, "OPTIONS requests per URI")
        ->type_name("N")
        ->check(CLI::Range(1u, 1000u))
        ->capture_default_str();
    app.add_option("--local", o.local, "Local address to send from (default: the one towards the first URI)")->type_name("ADDR");
    app.add_option("--transport", o.transport, "udp or tcp")->type_name("PROTO")->capture_default_str();
    app.add_option("--impu", o.impu, "Register-and-deregister check: the public identity to register through the first URI")
        ->type_name("IMPU");
    app.add_option("--impi", o.impi, "Private identity for the register check (default: the IMPU without sip:)")->type_name("IMPI");
    app.add_option("--password", o.password, "Digest password for the register check")->type_name("PASSWORD");
    app.add_option("--registrar", o.registrar, "Request-URI of the REGISTER (default: sip:DOMAIN of the IMPU)")->type_name("URI");
    app.add_option("--resolve", o.resolve, "Check that this IMPU's binding resolves in the overlay (needs --overlay, "
                                            "--overlay-network-id and --overlay-key)")
        ->type_name("IMPU");
    app.add_option("--overlay", o.bootstrap, "With --resolve: HOST:PORT of an overlay node (repeatable)")->type_name("HOST:PORT");
    app.add_option("--overlay-network-id", o.network_id, "With --resolve: the overlay's network id")->type_name("N");
    app.add_option("--overlay-key", o.overlay_key,
                   "With --resolve: the overlay key (overlay.key of p2p-node ca init) bindings must carry a MAC under")
        ->type_name("FILE");
}

void add_swarm_options(CLI::App& app, SwarmProbeOptions& o)
{
    app.add_option(swarm_positional, o.source,
                   "A magnet link, an info-hash (40 or 64 hex digits), a .torrent file, or with --dht a content id")
        ->type_name("MAGNET|INFOHASH|TORRENT|CONTENT-ID");
    dht::add_content_client_options(app, o.overlay);
    app.add_option("--tracker", o.trackers, "Tracker announce URL to scrape and announce to, besides the source's (repeatable)")
        ->type_name("URL");
    app.add_option("--peer", o.peers, "Connect to this peer ADDRESS:PORT too (repeatable)")->type_name("ADDR");
    app.add_option("--listen", o.listen, "ADDRESS:PORT for the probe's BitTorrent connections (port 0: any)")
        ->type_name("ADDR")
        ->capture_default_str();
}

void add_license_options(CLI::App& app, LicenseProbeOptions& o)
{
    app.add_option(license_positional, o.url, "The licence server's URL, http:// or https://")->type_name("URL");
    app.add_option("--ca-file", o.ca_file, "Trust this CA certificate (PEM) instead of the system's")->type_name("FILE");
    app.add_option("--kid", o.kid, "With credentials: ask a test licence for this KID (a free content's), "
                                   "32 hex digits (default: a reserved KID, expecting an authenticated 404)")
        ->type_name("KID");
    license::add_credential_options(app, o.credentials);
}

void add_core_options(CLI::App& app, CoreProbeOptions& o)
{
    app.add_option("--core-overlay", o.core.overlay, "HOST:PORT of a node of the managed overlay to read the load records through")
        ->type_name("HOST:PORT");
    app.add_option("--core-ca", o.core.ca, "The overlay CA's certificate (ca.crt) that load records must chain to")->type_name("FILE");
    app.add_option("--core-network-id", o.core.network_id, "The overlay's network id (default: p2p-node's, 4803923)")->type_name("N");
    app.add_option("--bind", o.bind, "Local IPv4 address of the probe's short-lived DHT node")
        ->type_name("ADDR")
        ->capture_default_str();
}

void define(cli::Tool& tool, ProbeCommand& c)
{
    auto& app = tool.app();
    app.add_flag("--nagios", c.monitor.nagios, "Nagios plugin output: one line 'STATUS: text | perfdata', exit 0-3");
    app.add_flag("--prometheus", c.monitor.prometheus, "Print the results in the Prometheus text format");
    app.add_option("--warning", c.monitor.warning,
                   "WARNING when METRIC crosses VALUE, e.g. rtt_ms=200, loss_pct=5, nodes=8 (repeatable)")
        ->type_name("METRIC=VALUE");
    app.add_option("--critical", c.monitor.critical, "CRITICAL when METRIC crosses VALUE (repeatable)")->type_name("METRIC=VALUE");
    app.add_option("--watch", c.monitor.watch, "Probe again every SECONDS until interrupted")
        ->type_name("SECONDS")
        ->check(cli::positive());
    app.add_option("--rounds", c.monitor.rounds, "With --watch: stop after N rounds")->type_name("N")->check(CLI::Range(1u, 1000000u));
    tool.add_timeout(5.0, "Seconds to wait for each peer's answer (swarm: for the whole probe, default 10)");

    c.dht_command = app.add_subcommand("dht", "Join an OpenDHT overlay briefly and measure it; --crawl lists its nodes");
    add_dht_options(*c.dht_command, c.dht);
    c.sip_command = app.add_subcommand("sip", "OPTIONS pings of SIP nodes; register check; --resolve a user in the overlay");
    add_sip_options(*c.sip_command, c.sip);
    c.swarm_command = app.add_subcommand("swarm", "Tracker scrape and a brief look at a swarm's peers and pieces");
    add_swarm_options(*c.swarm_command, c.swarm);
    c.license_command = app.add_subcommand("license", "Reachability and TLS certificate expiry of a licence server; a test licence with credentials");
    add_license_options(*c.license_command, c.license);
    c.core_command = app.add_subcommand("core", "The core nodes' load records in the overlay: nodes, rates, caps, who sheds");
    add_core_options(*c.core_command, c.core);
    c.all_command = app.add_subcommand("all", "Run the probes of a testbed file concurrently and print one table");
    c.all_command->add_option("--testbed", c.testbed, "The testbed file (TOML/INI: one [KIND.NAME] section per probe)")
        ->type_name("FILE")
        ->required();
    for (auto* sub : {c.dht_command, c.sip_command, c.swarm_command, c.license_command, c.core_command, c.all_command})
        sub->fallthrough(); // the common and monitoring options work after the subcommand too
}

bool nagios_requested(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--nagios") == 0)
            return true;
    return false;
}

Outcome run(cli::Tool& tool, ProbeCommand& c)
{
    const auto& monitor = c.monitor;
    const Format format = monitor.nagios ? Format::nagios
                        : monitor.prometheus ? Format::prometheus
                        : tool.common().json ? Format::json
                                             : Format::text;
    try {
        if (monitor.nagios && (monitor.prometheus || tool.common().json))
            throw Failure(Outcome::usage, "--nagios, --prometheus and --json exclude each other");
        if (monitor.prometheus && tool.common().json)
            throw Failure(Outcome::usage, "--prometheus and --json exclude each other");
        if (monitor.rounds && monitor.watch <= 0)
            throw Failure(Outcome::usage, "--rounds needs --watch");
        Thresholds thresholds;
        for (const auto& text : monitor.warning)
            thresholds.warning.push_back(parse_threshold(text));
        for (const auto& text : monitor.critical)
            thresholds.critical.push_back(parse_threshold(text));

        const bool timeout_given = tool.app().count("--timeout") > 0;
        const double timeout = tool.common().timeout;
        struct Planned {
            std::string kind, name, target;
            std::function<ProbeResult()> probe;
        };
        std::vector<Planned> planned;
        if (*c.dht_command) {
            c.dht.timeout = timeout;
            check(c.dht);
            planned.push_back({"dht", "", "", [&] { return probe_dht(c.dht); }});
        } else if (*c.sip_command) {
            c.sip.timeout = timeout;
            check(c.sip);
            planned.push_back({"sip", "", "", [&] { return probe_sip(c.sip); }});
        } else if (*c.swarm_command) {
            c.swarm.timeout = timeout_given ? timeout : 10.0;
            check(c.swarm);
            planned.push_back({"swarm", "", c.swarm.source, [&] { return probe_swarm(c.swarm); }});
        } else if (*c.license_command) {
            c.license.timeout = timeout;
            check(c.license);
            planned.push_back({"license", "", c.license.url, [&] { return probe_license(c.license); }});
        } else if (*c.core_command) {
            c.core.timeout = timeout;
            check(c.core);
            planned.push_back({"core", "", c.core.core.overlay, [&] { return probe_core(c.core); }});
        } else if (*c.all_command) {
            for (const auto& entry : read_testbed(c.testbed))
                planned.push_back({entry.kind, entry.name, entry.name, testbed_probe(entry, timeout, c.testbed)});
        } else {
            throw Failure(Outcome::usage, "give a probe: dht, sip, swarm, license, core or all (see --help)");
        }

        swarm::catch_stop_signals();
        int code = 0;
        for (unsigned round = 1;; ++round) {
            std::vector<ProbeResult> results;
            if (planned.size() == 1 && planned.front().name.empty()) {
                results.push_back(planned.front().probe()); // a single probe's failures keep their own message and code
            } else {
                // Concurrently: a testbed's probes are independent, and its slowest bounds the round.
                std::vector<std::future<ProbeResult>> running;
                for (const auto& p : planned)
                    running.push_back(std::async(std::launch::async, [&p] { return guarded(p.kind, p.target, p.probe); }));
                for (std::size_t i = 0; i < running.size(); ++i) {
                    results.push_back(running[i].get());
                    results.back().name = planned[i].name;
                }
            }
            for (auto& r : results) {
                evaluate(r, thresholds);
                r.perf = perfdata(r, thresholds, results.size() > 1 ? r.name + "_" : "");
            }
            report(results, format, tool.out());
            code = exit_status(results, format);
            // A single probe's error also goes to stderr, where diagnostics belong.
            if (results.size() == 1 && !results.front().error.empty() && format != Format::nagios)
                spdlog::error("{}", results.front().error);
            if (monitor.watch <= 0 || swarm::stop_requested() || (monitor.rounds && round >= monitor.rounds))
                break;
            sleep_interruptible(monitor.watch);
            if (swarm::stop_requested())
                break;
        }
        return outcome_of_code(code);
    } catch (const Failure& failure) {
        if (!monitor.nagios)
            throw;
        // Nagios reads stdout only: the reason goes there, with UNKNOWN (3).
        tool.out().raw(fmt::format("OVERLAY UNKNOWN: {}\n", failure.what()));
        spdlog::error("{}", failure.what());
        return Outcome::no_answer;
    }
}

} // namespace imsp2p::probe
