// p2p-node: an IMS core node — S-CSCF registrar with the subscriber data (HSS
// role) and the reg event notifier; `deregister` drives a running node.
#include "cli/tls_options.hpp"
#include "cli/tool.hpp"
#include "core/ca_command.hpp"
#include "core/node_command.hpp"
#include "core/psi_command.hpp"
#include "sip/trace_option.hpp"

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("p2p-node", "Run an IMS core node: registrar (S-CSCF) with Digest and AKA authentication (HSS role)");
    auto& app = tool.app();
    core::NodeOptions o;

    app.add_option("--listen", o.listen, "Local ADDRESS[:PORT] to serve SIP on (port default: 5060)")->type_name("ADDR");
    app.add_option("--subscribers", o.subscribers, "Subscriber CSV (impi,impus,auth,password,k,op,opc,amf,sqn) to import")
        ->type_name("FILE");
    app.add_option("--state-dir", o.state_dir,
                   "Directory for the node's state (hss.sqlite: subscribers and SQNs; control.sock)")
        ->type_name("DIR");
    app.add_option("--domain", o.domain, "Home domain: the Digest realm and the domain of the IMPUs, e.g. ims.test")
        ->type_name("DOMAIN");
    app.add_option("--ind", o.ind, "This node's IND for AKA sequence numbers (each node its own)")
        ->type_name("N")
        ->check(CLI::Range(0u, 31u))
        ->capture_default_str();
    tool.choices(app.add_option("--aka-version", o.aka_version, "Digest AKA version to challenge AKA subscribers with")
                     ->type_name("1|2")
                     ->capture_default_str(),
                 {"1", "2"});
    tool.choices(app.add_option("--digest-algorithm", o.digest_algorithm,
                                "Digest for md5 subscribers: md5, or sha-256 offered before MD5")
                     ->type_name("ALG")
                     ->capture_default_str(),
                 {"md5", "sha-256"});
    tool.choices(app.add_option("--transport", o.transport, "SIP transports to serve")->type_name("PROTO")->capture_default_str(),
                 {"udp", "tcp", "both"});
    app.add_option("--tls-listen", o.tls_listen,
                   "Also serve SIP over TLS (sips:) on ADDRESS[:PORT] (port default: 5061); needs --tls-cert and --tls-key")
        ->type_name("ADDR");
    cli::add_tls_options(tool, o.tls, "Server certificate (PEM, may carry its chain) for --tls-listen");
    app.add_option("--max-expires", o.max_expires, "Longest registration granted, in seconds")
        ->type_name("SECONDS")
        ->check(CLI::Range(1u, 4294967u))
        ->capture_default_str();
    app.add_option("--transaction-timeout", o.transaction_timeout,
                   "SIP timers B/F/H/J: how long a transaction waits for an answer, and how long a completed one is kept")
        ->type_name("SECONDS")
        ->check(CLI::Range(1.0, 64.0))
        ->capture_default_str();
    app.add_option("--min-expires", o.min_expires, "Shortest registration accepted (shorter: 423), in seconds")
        ->type_name("SECONDS")
        ->check(CLI::Range(1u, 4294967u))
        ->capture_default_str();

    app.add_flag("--sec-agree", o.sec_agree,
                 "P-CSCF side of sec-agree (RFC 3329): Security-Server in 401s, Security-Verify checked (no SAs installed)");
    app.add_option("--sec-agree-ports", o.sec_agree_ports, "Protected client and server ports announced in Security-Server")
        ->type_name("PORT_C:PORT_S")
        ->capture_default_str();
    sip::add_trace_option(app);
    app.add_option("--metrics", o.metrics, "Serve Prometheus metrics at http://ADDR:PORT/metrics")->type_name("ADDR:PORT");
    app.add_option("--peer", o.peers, "Route requests for another DOMAIN to a proxy: DOMAIN=SIP-URI (repeatable)")
        ->type_name("DOMAIN=URI");

    auto& overlay = o.overlay;
    app.add_option("--dht", overlay.dht, "Join the managed overlay: the DHT node's local ADDRESS[:PORT] (port default: 4222)")
        ->type_name("ADDR");
    app.add_option("--bootstrap", overlay.bootstrap, "HOST:PORT of an overlay node to join through (repeatable)")
        ->type_name("HOST:PORT");
    app.add_option("--network-id", overlay.network_id, "The overlay's private network id")
        ->type_name("N")
        ->capture_default_str();
    app.add_option("--credentials", overlay.credentials, "Directory with ca.crt, overlay.key and this node's NAME.crt/NAME.key")
        ->type_name("DIR");
    app.add_option("--node-name", overlay.node_name, "This node's name: the CN of its certificate")->type_name("NAME");
    app.add_option("--nodes", overlay.nodes,
                   "Simulation mode: run N DHT nodes in this process (this one and N-1 on the next ports), for overlays of "
                   "64-1024 nodes on one machine")
        ->type_name("N")
        ->check(CLI::Range(1u, dht::SimulatedOverlay::max_nodes))
        ->capture_default_str();
    app.add_option("--lookup-cache", overlay.lookup_cache,
                   "AORs whose lookups are answered from memory, kept current by overlay listens (0: read the DHT every time)")
        ->type_name("N")
        ->capture_default_str();

    auto* balance = app.add_option_group("Load balancing", "Load records in the overlay and shedding past a cap");
    balance->add_option("--max-rate", o.shed.max_rate,
                        "Initial requests served per second at most (an artificial capacity); 0: no cap")
        ->type_name("PER_SECOND")
        ->capture_default_str();
    balance->add_option("--overload-threshold", o.shed.threshold,
                        "Fraction of --max-rate past which new REGISTERs get 302 to less-loaded nodes, other new requests 503")
        ->type_name("FRACTION")
        ->capture_default_str();
    balance->add_option("--retry-after", o.shed.retry_after, "Retry-After of the 503s sent when overloaded, in seconds")
        ->type_name("SECONDS")
        ->capture_default_str();
    balance->add_option("--load-interval", o.load_interval,
                        "Seconds between two load records (with --dht); a record lives 3 intervals")
        ->type_name("SECONDS")
        ->capture_default_str();

    core::CaOptions ca;
    auto* ca_command = app.add_subcommand("ca", "The testbed operator's CA for the managed overlay");
    ca_command->require_subcommand(1);
    auto* ca_init = ca_command->add_subcommand("init", "Create the CA (ca.crt, ca.key) in --dir");
    auto* ca_issue = ca_command->add_subcommand("issue", "Issue a node certificate (NAME.crt, NAME.key) in --dir");
    for (auto* sub : {ca_init, ca_issue}) {
        sub->fallthrough();
        sub->add_option("--dir", ca.dir, "The CA's directory")->type_name("DIR");
        sub->add_option("--days", ca.days, "Validity in days")->type_name("N")->capture_default_str();
    }
    ca_init->add_option("--name", ca.name, "The CA's common name")->type_name("CN");
    ca_issue->add_option("node", ca.name, "The node's name (its certificate's CN)")->required()->type_name("NAME");

    core::DeregisterOptions d;
    auto* deregister = app.add_subcommand("deregister", "Deregister an IMPU on a running node (network-initiated; "
                                                        "reg event subscribers are notified)");
    deregister->fallthrough(); // the common options (--json, --timeout, -v) work after the subcommand too
    deregister->add_option("impu", d.impu, "The IMPU to deregister, e.g. sip:alice@ims.test")->required()->type_name("IMPU");
    deregister->add_option("--state-dir", d.state_dir, "State directory of the running node")->type_name("DIR");
    tool.choices(deregister->add_option("--reason", d.reason, "Reginfo event: deactivated (re-register) or rejected (do not)")
                     ->type_name("EVENT")
                     ->capture_default_str(),
                 {"deactivated", "rejected"});

    core::PsiOptions psi;
    auto* psi_command = app.add_subcommand("psi", "Publish a public service identity on a running node: any core node "
                                                  "then routes it to TARGET");
    psi_command->fallthrough();
    psi_command->add_option("psi", psi.psi, "The public service identity, e.g. sip:drm@ims.test")->required()->type_name("PSI");
    psi_command->add_option("target", psi.target, "SIP URI of the server hosting it")->required()->type_name("URI");
    psi_command->add_option("--state-dir", psi.state_dir, "State directory of the running node")->type_name("DIR");
    psi_command->add_option("--expires", psi.expires, "How long the publication lasts, in seconds; 0 withdraws it")
        ->type_name("SECONDS")
        ->check(CLI::Range(0u, 4294967u))
        ->capture_default_str();
    tool.add_timeout(5.0, "Seconds to wait for a running node's answer (deregister, psi)");

    return tool.run(argc, argv, [&] {
        if (*ca_init)
            return core::run_ca_init(ca, tool.out());
        if (*ca_issue)
            return core::run_ca_issue(ca, tool.out());
        if (*deregister)
            return core::run_deregister(d, tool.out(), tool.common().timeout);
        if (*psi_command)
            return core::run_psi(psi, tool.out(), tool.common().timeout);
        return core::run_node(o, tool.out(), tool.common().verbosity);
    });
}
