// license-fetch: acquire a Clear Key licence from a licence server with IMS credentials.
#include "cli/tool.hpp"
#include "license/credential_cli.hpp"
#include "license/fetch_command.hpp"

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("license-fetch", "Acquire a Clear Key licence from a licence server with IMS credentials (Digest/AKA)");
    auto& app = tool.app();
    license::FetchOptions o;
    app.add_option("file", o.file, "An encrypted content file: ask for the KID in its header")->type_name("FILE.enc");
    app.add_option("--kid", o.kids, "The KID to ask a key for, 32 hex digits (repeat for more)")->type_name("KID");
    app.add_option("--content", o.content_id, "A content id: the KID and licence server from its content record (needs --dht)")
        ->type_name("ID");
    app.add_option("--server", o.server,
                   "The licence server, http://HOST[:PORT] or https://HOST[:PORT] (with --content: instead of the record's)")
        ->type_name("URL");
    app.add_option("--output", o.output, "Where to write the licence (a Clear Key JWK set, mode 0600)")->type_name("FILE");
    license::add_credential_options(app, o.credentials);
    app.add_option("--cacert", o.cacert, "CA certificate (PEM) to verify an https server with")->type_name("FILE");
    app.add_option("--request-id", o.request_id, "Request id (default: random); the same id again is never charged twice")
        ->type_name("ID");
    dht::add_content_client_options(app, o.overlay, "Content records");
    tool.add_timeout(10.0, "Give up after SECONDS without an answer (retrying meanwhile)");

    return tool.run(argc, argv, [&] {
        o.timeout = tool.common().timeout;
        return license::run_fetch_license(o, tool.out());
    });
}
