// ims-call's options, as parsed by its main, and their resolution into what
// a run needs (setup: validation and reading files only, no network I/O).
#pragma once

#include "call/wav.hpp"
#include "sip/tls.hpp"
#include "ue/core_discovery.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::aka {
class Usim;
}

namespace imsp2p::call {

struct CallOptions {
    std::string target;        // sip:bob@ims.test (originate, message)
    // Identity and credentials (as ims-register takes them).
    std::string impu, impi, password, subscribers;
    std::string usim_state;    // --usim-state: SEQ_MS file of an aka row (default: ims-register's)
    std::string registration;  // ims-register --json output: FILE or "-"
    std::string preferred_identity;
    // Where requests go.
    std::string proxy;
    ue::CoreDiscoveryOptions core; // --core-overlay: the proxy picked from the overlay's load records
    std::string local;         // ADDR[:PORT]
    std::string user_agent;
    sip::TlsOptions tls;       // --tls-ca, --tls-cert, --tls-key, --insecure
    // Originate.
    double duration = 5;
    double ring_timeout = 30;
    double timeout = 5;        // for a first answer to a request
    std::string message;       // --message TEXT: a MESSAGE instead of a call
    unsigned max_redirects = 3; // 3xx followed at most this often (0: reported as a failure)
    std::string redirect;      // answer mode: 302 to this Contact
    bool rel100 = false;       // --100rel: Require: 100rel (caller), reliable 180 (answerer)
    bool update = false;       // --update: the caller sends an UPDATE with a new offer mid-call
    bool precondition = false; // --precondition: the QoS precondition flow (RFC 3312), both sides
    // Load mode (count > 0).
    unsigned count = 0;
    double rate = 0;           // calls started per second, 0: as fast as concurrency allows
    unsigned concurrency = 0;  // calls in progress at most, 0: rate × (hold + 2 s), at least 1000
    double run_time = 0;       // --run-time: start calls for this long (instead of, or besides, --count)
    double stats_interval = 0; // --stats-interval: a load_stats line this often, 0: none
    // Answer.
    std::string listen;        // ADDR[:PORT]
    std::string tls_listen;    // ADDR[:PORT]: answer over TLS there too
    bool answer = false;
    double answer_delay = 0;
    unsigned reject = 0;
    unsigned max_calls = 0;    // 0: until a signal
    bool echo = false;
    // Media.
    std::string media = "tone"; // tone | none
    std::string codec;          // empty: offer PCMU and PCMA; pcmu | pcma: only that one
    unsigned tone_hz = 440;
    std::string wav;            // --wav FILE: send this instead of a tone
    double rtcp_interval = 5;   // seconds between RTCP reports, 0: no RTCP
    bool rtcp_mux = true;       // offer and accept rtcp-mux (RFC 5761); --no-rtcp-mux: RTCP on RTP port + 1
};

// One caller of load mode (a row of the subscriber file).
struct Caller {
    std::string impu, impi, password;
};

// Everything a run needs, checked.
struct CallPlan {
    enum class Mode { call, message, answer, load } mode = Mode::call;
    std::string target;         // empty in load mode with callers_from_file: the callees are the rows too
    std::string impu;           // From; empty in answer mode without identity
    std::string impi, password; // Digest credentials; empty: none
    std::shared_ptr<aka::Usim> usim; // an aka row's USIM (AKA challenges), else null
    std::optional<std::filesystem::path> usim_state; // its SEQ_MS, shared with ims-register
    std::string preferred_identity;
    std::string proxy;          // outbound proxy (P-CSCF)
    std::vector<std::string> route; // preloaded Route (Service-Route of the registration)
    std::string host;           // local address to bind
    unsigned port = 0;          // 0: any
    bool port_from_registration = false; // fall back to any port if it is taken
    bool tls = false;           // requests go over TLS (a sips: or transport=tls next hop)
    std::string tls_host;       // answer mode: TLS listener too; empty: none
    unsigned tls_port = 0;
    sip::TlsOptions tls_options;
    std::string contact_user;
    bool callers_from_file = false; // load mode: callers (and callees) are the subscriber file's rows
    std::vector<Caller> callers;
    std::string user_agent;
    std::shared_ptr<const WavAudio> wav; // --wav, read and checked
};

// Throws Failure(usage) with a precise message for every bad input.
CallPlan plan_call(const CallOptions& options);

} // namespace imsp2p::call
