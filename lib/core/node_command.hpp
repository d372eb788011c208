// p2p-node's run: its options, checked, then the registrar on a SIP stack
// until SIGINT or SIGTERM.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "core/node_overlay.hpp"
#include "core/shedder.hpp"
#include "sip/tls.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace imsp2p::core {

struct NodeOptions {
    std::string listen;               // ADDRESS[:PORT], default port 5060
    std::string subscribers;          // CSV file
    std::string state_dir;            // holds hss.sqlite
    std::string domain;               // home domain: realm and registrar domain
    unsigned ind = 0;                 // this node's IND, 0-31
    int aka_version = 1;              // 1 or 2
    std::string digest_algorithm = "md5"; // md5 or sha-256 (offered before MD5)
    std::string transport = "both";   // udp, tcp or both
    std::string tls_listen;           // ADDRESS[:PORT] to serve SIP over TLS on too (port default 5061); empty: no TLS
    sip::TlsOptions tls;              // its certificate and key; the CA for the TLS connections it makes
    unsigned max_expires = 3600;
    unsigned min_expires = 1;
    double transaction_timeout = 5;   // seconds: timers B/F/H/J (why not 32: p2p-node(1), --transaction-timeout)
    std::vector<std::string> peers;   // DOMAIN=SIP-URI: where requests for another domain go
    OverlayOptions overlay;           // the DHT; without --dht, bindings stay in memory
    std::string metrics;              // ADDRESS:PORT for Prometheus; empty: none
    bool sec_agree = false;           // P-CSCF side of sec-agree (header exchange)
    std::string sec_agree_ports = "5062:5063"; // our protected client:server ports
    ShedOptions shed;                 // --max-rate, --overload-threshold, --retry-after
    unsigned load_interval = 2;       // seconds between load records (with --dht)
};

Outcome run_node(const NodeOptions& options, cli::Output& out, int verbosity);

// `p2p-node deregister`: network-initiated deregistration of an IMPU by the
// node running on a state directory (through its control socket).
struct DeregisterOptions {
    std::string state_dir;
    std::string impu;
    std::string reason = "deactivated"; // or rejected (RFC 3680 §5.2)
};

Outcome run_deregister(const DeregisterOptions& options, cli::Output& out, double timeout_s);

std::filesystem::path control_socket_path(const std::string& state_dir);

} // namespace imsp2p::core
