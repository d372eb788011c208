// license-fetch: acquire a Clear Key licence for KIDs (given, or read from an
// encrypted file's header) from a licence server, as an IMS subscriber.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "dht/content_client.hpp"
#include "license/client_credentials.hpp"

#include <string>
#include <vector>

namespace imsp2p::license {

struct FetchOptions {
    std::vector<std::string> kids; // hex
    std::string file;              // an encrypted content file: its KID
    std::string content_id;        // a content id: KID and server from its content record
    dht::ContentClientOptions overlay;
    std::string server;            // http(s)://HOST[:PORT]
    std::string output;            // the licence (mode 0600)
    std::string cacert;
    std::string request_id;        // default: random; give the same to retry without a second charge
    CredentialOptions credentials;
    double timeout = 10;
};

Outcome run_fetch_license(const FetchOptions& options, cli::Output& out);

} // namespace imsp2p::license
