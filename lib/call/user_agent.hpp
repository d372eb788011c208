// A SIP user agent on sofia-sip's nua layer: one su_root event loop and one
// nua bound to one local address, with media handling off (ims-call carries
// SDP itself). Every nua event reaches one handler, on the loop's thread.
#pragma once

#include "call/nta_stats.hpp"
#include "call/nua.hpp"
#include "sip/tls.hpp"
#include "sip/trace_tap.hpp"

#include <exception>
#include <functional>
#include <memory>
#include <string>

namespace imsp2p::call {

struct UaConfig {
    std::string host;          // local IP address to bind
    unsigned port = 0;         // 0: a free port
    std::string proxy;         // outbound proxy URI, empty: none
    std::string from;          // default From (our public identity), may be empty
    std::string contact_user;  // user part of our Contact
    std::string user_agent;
    double transaction_timeout = 32.0; // seconds (64*T1)
    bool tls = false;          // listen and send on TLS only (port: `port`)
    std::string tls_host;      // listen on TLS here too (answerer); empty: no
    unsigned tls_port = 0;
    sip::TlsOptions tls_options;
    bool answers_update = false; // the application answers UPDATE (its SDP), not nua
    bool precondition = false;   // Supported: precondition (RFC 3312)
};

struct NuaEvent {
    nua_event_t event;
    int status;
    const char* phrase;
    nua_handle_t* handle;
    Leg* leg;               // the handle's context, null until bound
    const sip_t* sip;       // may be null for answers generated locally
    tagi_t* tags;
    bool received = false;  // a response that came from the network (not made by nta: timeout, ICMP error)
};

class UserAgent {
public:
    using Handler = std::function<void(const NuaEvent&)>;

    explicit UserAgent(const UaConfig& config); // Failure(local) when it cannot bind
    ~UserAgent();                               // shuts nua down (bounded wait)
    UserAgent(const UserAgent&) = delete;
    UserAgent& operator=(const UserAgent&) = delete;

    su_root_t* root() const { return root_; }
    nua_t* nua() const { return nua_; }
    nta_agent_s* nta_agent() const { return agent_; } // null when it could not be found
    const UaConfig& config() const { return config_; }
    std::string local() const;  // host:port we listen on

    void set_handler(Handler handler) { handler_ = std::move(handler); }
    // Runs the loop until stop(). An exception thrown by a handler or timer
    // callback stops the loop and is rethrown here (never through sofia's C frames).
    void run();
    void stop();
    void fail(std::exception_ptr error);
    // Leaves sofia's stack as it is at destruction: no nua_shutdown, nothing
    // freed (the process is about to exit). For a UAS that hostile peers may
    // have left with half-made dialogs: sofia-sip 1.12's nua_shutdown then
    // trips an assertion in nua_dialog_usage_remove and aborts.
    void abandon() { abandoned_ = true; }

private:
    static void callback(nua_event_t event, int status, char const* phrase, nua_t* nua, UserAgent* self,
                         nua_handle_t* nh, Leg* leg, sip_t const* sip, tagi_t tags[]);
    void shutdown();

    UaConfig config_;
    std::unique_ptr<sip::TraceTap> trace_; // --trace, --expect: sofia's transport dump
    su_root_t* root_ = nullptr;
    nua_t* nua_ = nullptr;
    nta_agent_s* agent_ = nullptr;
    Handler handler_;
    bool shut_down_ = false;          // shutdown over: finished, or given up after its bound
    bool shutdown_finished_ = false;  // nua answered the shutdown: it can be destroyed
    bool abandoned_ = false;
    std::exception_ptr error_;
};

// A one-shot timer on a user agent's loop.
class LoopTimer {
public:
    explicit LoopTimer(UserAgent& ua);
    ~LoopTimer();
    LoopTimer(const LoopTimer&) = delete;
    LoopTimer& operator=(const LoopTimer&) = delete;

    void start(double seconds, std::function<void()> callback); // replaces a pending one
    void cancel();

private:
    static void fire(UserAgent*, su_timer_t*, su_timer_arg_t* self);
    UserAgent& ua_;
    su_timer_t* timer_;
    std::function<void()> callback_;
};

// The `realm` parameter of a challenge, with its quotes, or empty; its scheme,
// algorithm and whether it says stale=true (the nonce expired, not the password).
std::string challenge_realm(const sip_t* sip, std::string& scheme, std::string& algorithm, bool& stale);

// The body of a message as text (empty without one).
std::string payload_text(const sip_t* sip);

} // namespace imsp2p::call
