// license-server: the DRM licence server (an IMS application server):
// authenticates IMS identities with HTTP Digest, charges, returns keys;
// `admin` and `cdr` work on its state directory.
#include "cli/tool.hpp"
#include "license/server_command.hpp"

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("license-server", "Serve Clear Key licences to IMS subscribers over HTTP(S), with Digest/AKA "
                                     "authentication and charging");
    auto& app = tool.app();
    license::ServerOptions o;
    app.add_option("--listen", o.listen, "ADDRESS[:PORT] to serve on (port default: 8080, 8443 with TLS)")
        ->type_name("ADDR")
        ->capture_default_str();
    app.add_option("--state-dir", o.state_dir, "Directory for hss.sqlite, license.sqlite (keys, accounts, CDRs), master.key")
        ->type_name("DIR");
    app.add_option("--subscribers", o.subscribers, "Subscriber CSV (impi,impus,auth,password,k,op,opc,amf,sqn) to import")
        ->type_name("FILE");
    app.add_option("--domain", o.domain, "Home domain: the Digest realm, e.g. ims.test")->type_name("DOMAIN");
    app.add_option("--master-key", o.master_key, "File with the key sealing content keys (default: STATE-DIR/master.key, "
                                                 "created when missing)")
        ->type_name("FILE");
    app.add_option("--cert", o.cert, "TLS certificate chain (PEM): serve HTTPS")->type_name("FILE");
    app.add_option("--key", o.key, "TLS private key (PEM) of --cert")->type_name("FILE");
    tool.choices(app.add_option("--digest-algorithm", o.digest_algorithm,
                                "Digest for md5 subscribers: sha-256 (offered before MD5) or md5 only")
                     ->type_name("ALG")
                     ->capture_default_str(),
                 {"md5", "sha-256"});
    app.add_option("--ind", o.ind, "This server's IND for AKA sequence numbers (distinct from the core nodes')")
        ->type_name("N")
        ->check(CLI::Range(0u, 31u))
        ->capture_default_str();
    app.add_option("--threads", o.threads, "Threads serving HTTP, each any number of connections (0: one per CPU)")
        ->type_name("N")
        ->check(CLI::Range(0u, 256u))
        ->capture_default_str();
    app.add_option("--max-body", o.max_body, "Largest request body accepted, in bytes (larger: 413)")
        ->type_name("BYTES")
        ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 24))
        ->capture_default_str();
    app.add_option("--nonce-lifetime", o.nonce_lifetime, "Seconds a Digest nonce may be reused (with a rising nc)")
        ->type_name("SECONDS")
        ->check(cli::positive())
        ->capture_default_str();
    app.add_option("--max-failures", o.max_failures, "Failed attempts per identity in 60 s before it is refused (429) for 60 s")
        ->type_name("N")
        ->check(CLI::Range(1u, 1000000u))
        ->capture_default_str();
    app.add_option("--max-address-failures", o.max_address_failures,
                   "Failed attempts from one source address in 60 s before it is refused (429) for 60 s")
        ->type_name("N")
        ->check(CLI::Range(1u, 1000000u))
        ->capture_default_str();
    app.add_option("--batch", o.batch, "Most CDRs written in one transaction (group commit)")
        ->type_name("N")
        ->check(CLI::Range(std::size_t{1}, std::size_t{100000}))
        ->capture_default_str();

    license::AdminOptions a;
    auto* admin = app.add_subcommand("admin", "Edit accounts and policies in --state-dir (works while the server runs)");
    admin->require_subcommand(1);
    auto* credit = admin->add_subcommand("credit", "Add AMOUNT (negative: take) to the balance of IMPI");
    credit->add_option("impi", a.subject, "The subscriber's private identity")->required()->type_name("IMPI");
    credit->add_option("amount", a.amount, "Units to add")->required()->type_name("AMOUNT");
    auto* subscribe = admin->add_subcommand("subscribe", "Give IMPI a subscription for --days (0: end it)");
    subscribe->add_option("impi", a.subject, "The subscriber's private identity")->required()->type_name("IMPI");
    subscribe->add_option("--days", a.days, "Length of the subscription from now, in days")->type_name("DAYS")->capture_default_str();
    auto* publisher = admin->add_subcommand("publisher", "Let IMPI deposit keys (--revoke: no longer)");
    publisher->add_option("impi", a.subject, "The publisher's private identity")->required()->type_name("IMPI");
    publisher->add_flag("--revoke", a.revoke, "Take the publisher role away");
    auto* policy = admin->add_subcommand("policy", "Change the policy of a deposited KID");
    policy->add_option("kid", a.subject, "The KID, 32 hex digits")->required()->type_name("KID");
    tool.choices(policy->add_option("policy", a.policy, "free, subscription or pay-per-download")->required()->type_name("POLICY"),
                 {"free", "subscription", "pay-per-download"});
    policy->add_option("--price", a.price, "Price per download (pay-per-download)")->type_name("AMOUNT");
    auto* show = admin->add_subcommand("show", "List accounts and contents (never keys)");
    auto* cdr = app.add_subcommand("cdr", "Export the charging data records of --state-dir");
    cdr->add_option("--after", a.after, "Only records with an id above N")->type_name("N");
    for (auto* sub : {admin, credit, subscribe, publisher, policy, show, cdr}) {
        sub->fallthrough(); // --state-dir and the common options work after the subcommand too
    }

    return tool.run(argc, argv, [&] {
        a.state_dir = o.state_dir;
        if (*cdr)
            return license::run_cdr(a, tool.out());
        if (*admin) {
            a.action = *credit ? "credit" : *subscribe ? "subscribe" : *publisher ? "publisher" : *policy ? "policy" : "show";
            return license::run_admin(a, tool.out());
        }
        return license::run_server(o, tool.out());
    });
}
