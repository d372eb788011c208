// license-fetch: acquire a Clear Key licence from a licence server with IMS credentials.
#include "cli/tool.hpp"
#include "license/fetch_command.hpp"

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("license-fetch", "Acquire a Clear Key licence from a licence server with IMS credentials (Digest/AKA)");
    auto& app = tool.app();
    license::FetchOptions o;
    auto& c = o.credentials;
    app.add_option("file", o.file, "An encrypted content file: ask for the KID in its header")->type_name("FILE.enc");
    app.add_option("--kid", o.kids, "The KID to ask a key for, 32 hex digits (repeat for more)")->type_name("KID");
    app.add_option("--server", o.server, "The licence server, http://HOST[:PORT] or https://HOST[:PORT]")->type_name("URL");
    app.add_option("--output", o.output, "Where to write the licence (a Clear Key JWK set, mode 0600)")->type_name("FILE");
    app.add_option("--impi", c.impi, "Private identity to authenticate as (the Digest username)")->type_name("ID");
    app.add_option("--password", c.password, "Digest password (prefer --subscribers or --config: it stays out of ps)")
        ->type_name("TEXT");
    app.add_option("--k", c.k, "AKA: the subscriber key K, 32 hex digits (prefer --subscribers)")->type_name("HEX");
    app.add_option("--op", c.op, "AKA: the operator variant OP, 32 hex digits")->type_name("HEX");
    app.add_option("--opc", c.opc, "AKA: OPc instead of OP, 32 hex digits")->type_name("HEX");
    app.add_option("--subscribers", c.subscribers, "Subscriber CSV to take the --impi row's credentials from")->type_name("FILE");
    app.add_option("--usim-state", c.usim_state, "AKA: file keeping the USIM's SQN array between runs "
                                                 "(default: the one ims-register uses)")
        ->type_name("FILE");
    app.add_option("--cacert", o.cacert, "CA certificate (PEM) to verify an https server with")->type_name("FILE");
    app.add_option("--request-id", o.request_id, "Request id (default: random); the same id again is never charged twice")
        ->type_name("ID");
    tool.add_timeout(10.0, "Give up after SECONDS without an answer (retrying meanwhile)");

    return tool.run(argc, argv, [&] {
        o.timeout = tool.common().timeout;
        return license::run_fetch_license(o, tool.out());
    });
}
