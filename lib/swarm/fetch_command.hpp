// swarm-fetch: download content from the swarm (magnet link or torrent file),
// then decrypt it with a Clear Key licence into --output; or decrypt a local
// encrypted file.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "dht/content_client.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace imsp2p::swarm {

struct FetchOptions {
    std::string source;   // MAGNET, TORRENT file or an encrypted content file; with overlay.dht a CONTENT-ID
    std::string output;
    std::string license;  // Clear Key JWK set file
    std::string listen = "0.0.0.0:0";
    std::vector<std::string> peers;
    std::string state_dir; // default OUTPUT.swarm, removed after success
    double seed_after = 0;
    std::int64_t rate_limit = 0; // download bytes/s, 0: none
    double timeout = 60;
    double stats_interval = 1;
    dht::ContentClientOptions overlay; // resolve a content id through its content record
};

Outcome run_fetch(const FetchOptions& options, cli::Output& out);

} // namespace imsp2p::swarm
