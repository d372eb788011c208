// license-server: the HTTP(S) licence server (run_server) and its offline
// subcommands on the same state directory: `admin` edits accounts and
// policies, `cdr` exports the charging data records.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"

#include <cstdint>
#include <string>

namespace imsp2p::license {

struct ServerOptions {
    std::string listen = "127.0.0.1:8080"; // ADDRESS[:PORT]
    std::string state_dir;                 // hss.sqlite, license.sqlite, master.key
    std::string subscribers;               // CSV to import at start
    std::string domain;                    // the Digest realm
    std::string master_key;                // default STATE_DIR/master.key
    std::string cert, key;                 // TLS; both or neither
    std::string digest_algorithm = "sha-256"; // md5: MD5 only; sha-256: SHA-256 offered before MD5
    unsigned ind = 0;
    unsigned threads = 0; // io threads; 0: one per CPU
    std::size_t max_body = 16384;
    double nonce_lifetime = 300;
    unsigned max_failures = 5;
    unsigned max_address_failures = 20;
    std::size_t batch = 512;
};

Outcome run_server(const ServerOptions& options, cli::Output& out);

struct AdminOptions {
    std::string state_dir;
    std::string action;   // credit, subscribe, publisher, policy, show
    std::string subject;  // IMPI, or KID for policy
    std::int64_t amount = 0;
    double days = 30;     // subscribe: 0 ends it
    bool revoke = false;  // publisher
    std::string policy;
    std::int64_t price = 0;
    std::int64_t after = 0; // cdr: only records with a greater id
};

Outcome run_admin(const AdminOptions& options, cli::Output& out);
Outcome run_cdr(const AdminOptions& options, cli::Output& out);

} // namespace imsp2p::license
