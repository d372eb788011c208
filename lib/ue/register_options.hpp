// ims-register's options, as parsed by its main, and their resolution into
// what the SIP layer needs (setup: validation only, no network I/O).
#pragma once

#include "sip/registration.hpp"
#include "sip/stack.hpp"
#include "ue/core_discovery.hpp"
#include "subscriber/subscriber.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::ue {

struct RegisterOptions {
    std::string impu;
    std::string impi;
    std::string password;
    std::string k, op, opc;    // AKA credentials in hex (instead of a CSV row)
    std::string usim_state;    // USIM SEQ_MS file; empty: the default path
    bool show_keys = false;    // print CK and IK (secrets) in the result
    std::string subscribers;   // CSV file
    std::string registrar;     // Request-URI
    std::string proxy;         // outbound proxy (P-CSCF)
    std::string transport;     // empty: from the proxy/registrar URI (sips: tls), else udp
    sip::TlsOptions tls;       // --tls-ca, --tls-cert, --tls-key, --insecure
    std::string local;         // ADDR or ADDR:PORT or [V6]:PORT
    std::string contact;       // explicit contact URI
    std::string instance_id;
    std::string user_agent;
    unsigned expires = 600;
    bool unregister = false;
    bool unregister_all = false;
    bool keep = false;
    bool reg_event = false;    // with keep: subscribe to the reg event package
    bool no_initial_authorization = false;
    double timeout = 5.0;
    // sec-agree (TS 33.203): ipsec-3gpp negotiation, and SAs unless sec_sa is none.
    bool sec_agree = false;
    std::vector<std::string> sec_algs{"hmac-sha-1-96", "hmac-md5-96"};
    std::vector<std::string> sec_ealgs{"aes-cbc", "null"};
    std::string sec_ports;     // PORT_C:PORT_S; empty: the SIP port and the one above it
    std::string sec_sa = "xfrm";
    // Load mode.
    double rate = 0;
    unsigned count = 0;
    double duration = 0;
    unsigned concurrency = 0;
    bool load = false;         // any load option given
    CoreDiscoveryOptions core; // --core-overlay: the proxy picked from the overlay's load records
};

// Everything a run needs, checked.
struct RegisterPlan {
    sip::StackConfig stack;
    sip::RegistrationParams params;   // for a single registration; contact set once bound
    std::string contact_user;         // user part of our contact
    std::string explicit_contact;     // --contact, empty: sip:USER@LOCAL-ADDRESS:PORT
    std::string next_hop_display;     // for messages
    std::vector<subscriber::Subscriber> subscribers; // load mode: the rows to register
    std::optional<std::filesystem::path> usim_state;  // single mode, AKA: where SEQ_MS is kept
};

// Throws Failure(usage) with a precise message for every bad input.
RegisterPlan plan_registration(const RegisterOptions& options);

// Registration parameters for one subscriber row (load mode, and single mode from a CSV),
// all but the contact, which depends on the bound address.
sip::RegistrationParams params_for(const subscriber::Subscriber& row, const RegisterOptions& options,
                                   const std::string& registrar, const std::string& next_hop);

} // namespace imsp2p::ue
