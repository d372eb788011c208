// ims-register: IMS UE registration (Gm) — register, refresh, deregister, load.
#include "cli/tls_options.hpp"
#include "cli/tool.hpp"
#include "sip/trace_option.hpp"
#include "verdict/expect_option.hpp"
#include "ue/register_command.hpp"

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("ims-register", "Register an IMS user (SIP REGISTER with Digest or IMS AKA) with a registrar or P-CSCF");
    auto& app = tool.app();
    ue::RegisterOptions o;

    app.add_option("--impu", o.impu, "Public user identity to register, e.g. sip:alice@ims.test")->type_name("URI");
    app.add_option("--impi", o.impi, "Private identity, the Digest username (default: user@domain of the IMPU)")
        ->type_name("ID");
    app.add_option("--password", o.password, "Digest password (prefer --subscribers: it stays out of ps)")
        ->type_name("SECRET");
    app.add_option("--k", o.k, "AKA: the subscriber key K, 32 hex digits (prefer --subscribers)")->type_name("HEX");
    app.add_option("--op", o.op, "AKA: the operator variant OP, 32 hex digits")->type_name("HEX");
    app.add_option("--opc", o.opc, "AKA: OPc instead of OP, 32 hex digits")->type_name("HEX");
    app.add_option("--usim-state", o.usim_state,
                   "AKA: file keeping the USIM's SQN array between runs (default: under $XDG_STATE_HOME/imsp2p/usim)")
        ->type_name("FILE");
    app.add_flag("--show-keys", o.show_keys, "AKA: include CK and IK (secrets) in the result");
    app.add_option("--subscribers", o.subscribers, "Subscriber CSV (impi,impus,auth,password,...) to take credentials from")
        ->type_name("FILE");
    app.add_option("--registrar", o.registrar, "Request-URI of the REGISTER (default: sip:DOMAIN of the IMPU)")
        ->type_name("URI");
    app.add_option("--proxy", o.proxy, "Outbound proxy (P-CSCF) to send through; default: the registrar itself")
        ->type_name("URI");
    tool.choices(app.add_option("--transport", o.transport, "SIP transport (default: the proxy URI's; tls for sips:, else udp)")
                     ->type_name("PROTO"),
                 {"udp", "tcp", "tls"});
    app.add_option("--local", o.local, "Local ADDRESS[:PORT] to bind (default: the address that reaches the proxy)")
        ->type_name("ADDR");
    app.add_option("--contact", o.contact, "Contact URI to register instead of sip:USER@LOCAL-ADDRESS:PORT")
        ->type_name("URI");
    app.add_option("--instance-id", o.instance_id, "+sip.instance value (default: a UUID URN derived from the IMPI)")
        ->type_name("URN");
    app.add_option("--expires", o.expires, "Registration lifetime requested, in seconds")
        ->type_name("SECONDS")
        ->check(CLI::Range(1u, 4294967u))
        ->capture_default_str();
    app.add_option("--user-agent", o.user_agent, "User-Agent header value")->type_name("TEXT");
    app.add_flag("--unregister", o.unregister, "Remove this UE's binding (found by its instance id) instead of adding one");
    app.add_flag("--unregister-all", o.unregister_all, "Remove every binding of the IMPU (Contact: *)");
    app.add_flag("--keep", o.keep, "Stay registered: refresh before expiry, deregister on SIGINT or SIGTERM");
    app.add_flag("--reg-event", o.reg_event,
                 "With --keep: subscribe to the reg event package and exit 1 when the network deregisters");
    app.add_flag("--no-initial-auth", o.no_initial_authorization,
                 "Send the first REGISTER without the IMS empty Authorization header");
    cli::add_tls_options(tool, o.tls, "Client certificate (PEM) to present when the server asks for one");
    auto* sec = app.add_option_group("sec-agree", "Security mechanism agreement with the P-CSCF (RFC 3329, TS 33.203)");
    sec->add_flag("--sec-agree", o.sec_agree,
                  "Negotiate ipsec-3gpp (Security-Client/Server/Verify), derive the ESP keys from IK and CK, install the SAs");
    sec->add_option("--sec-alg", o.sec_algs, "Integrity algorithms to offer, in order")
        ->type_name("ALG")
        ->delimiter(',')
        ->capture_default_str();
    sec->add_option("--sec-ealg", o.sec_ealgs, "Encryption algorithms to offer, in order")
        ->type_name("EALG")
        ->delimiter(',')
        ->capture_default_str();
    sec->add_option("--sec-ports", o.sec_ports, "Protected client and server ports (default: the SIP port and the one above)")
        ->type_name("PORT_C:PORT_S");
    tool.choices(sec->add_option("--sec-sa", o.sec_sa,
                                 "xfrm: install the SAs in the kernel (root); none: negotiate only, nothing protected")
                     ->type_name("MODE")
                     ->capture_default_str(),
                 {"xfrm", "none"});
    ue::add_core_discovery_options(app, o.core);
    tool.add_timeout(5.0, "Seconds to wait for each answer (SIP transaction timeout)");
    sip::add_trace_option(app);
    verdict::ExpectOption expect(app);

    auto* load = app.add_option_group("Load mode", "Register the CSV's subscribers at a rate");
    load->add_option("--rate", o.rate, "Registrations started per second (default: as fast as --concurrency allows)")
        ->type_name("PER_SECOND")
        ->check(cli::positive());
    load->add_option("--count", o.count, "Stop after N registrations")->type_name("N")->check(cli::positive());
    load->add_option("--duration", o.duration, "Stop starting registrations after SECONDS")
        ->type_name("SECONDS")
        ->check(cli::positive());
    load->add_option("--concurrency", o.concurrency, "Registrations in progress at once at most (default: 2000)")
        ->type_name("N")
        ->check(cli::positive());

    return tool.run(argc, argv, [&] {
        o.timeout = tool.common().timeout;
        o.load = o.rate > 0 || o.count > 0 || o.duration > 0 || o.concurrency > 0;
        return expect.run("REGISTER", tool.out(), [&] {
            return o.load ? ue::run_register_load(o, tool.out()) : ue::run_register(o, tool.out());
        });
    });
}
