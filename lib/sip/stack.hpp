// A SIP endpoint on sofia-sip's transaction layer (nta): one su_root event
// loop and one agent bound to one local address and transport. Everything on
// it, callbacks included, runs on the thread that calls run().
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "sip/tls.hpp"
#include "sip/trace_tap.hpp"

struct su_root_s;
struct nta_agent_s;
struct su_timer_s;
struct sip_s;

namespace imsp2p::sip {

struct StackConfig {
    std::string transport = "udp"; // udp, tcp or tls
    bool also_tcp = false;         // with udp: listen on TCP at the same port too (servers)
    std::string tls_host;          // with udp/tcp: listen on TLS at this address too (servers); empty: no
    unsigned tls_port = 0;         // its port
    TlsOptions tls;                // for transport tls or tls_host: certificate, key, CA
    std::string host;              // local IP address to bind
    unsigned port = 0;             // 0: any free port
    double transaction_timeout = 32.0; // seconds: timer B/F (64*T1 by default)
    unsigned timer_k_ms = 5000;        // T4: how long a completed UDP transaction absorbs retransmitted answers
    // A proxy (p2p-node): nta does not act as a user agent (NTATAG_UA(0)), so a
    // PRACK it holds no reliable response for reaches our callbacks to be
    // forwarded, where a user agent's nta answers it 481 itself.
    bool proxy = false;
};

struct StackStats {
    std::size_t requests_sent = 0;
    std::size_t retransmissions = 0;   // requests sent again by the transaction layer
    std::size_t responses_received = 0;
    std::size_t bad_messages = 0;
};

class SipStack {
public:
    explicit SipStack(const StackConfig& config); // throws Failure(local) when it cannot bind
    ~SipStack();
    SipStack(const SipStack&) = delete;
    SipStack& operator=(const SipStack&) = delete;

    su_root_s* root() const { return root_; }
    nta_agent_s* agent() const { return agent_; }
    const StackConfig& config() const { return config_; }

    // Where the agent listens, as put in Contact headers: host and port.
    const std::string& local_host() const { return local_host_; }
    unsigned local_port() const { return local_port_; }
    unsigned tls_port() const { return tls_port_; } // the TLS listener's (tls_host), 0: none
    // sip:user@host:port;transport=… for this endpoint.
    std::string contact_uri(const std::string& user) const;
    // sips:user@host:port for the TLS listener (tls_host), empty: none (sips: keeps a dialog on TLS, see proxy.cpp).
    std::string tls_uri(const std::string& user) const;
    // Whether a URI names one of our listeners (host and port, the default
    // port by scheme and transport). `url` is a sofia url_t (an anonymous struct).
    bool names_us(const void* url) const;

    void run();  // until stop()
    void stop();
    StackStats stats() const;

private:
    void add_transport(const StackConfig& listener, const TlsDirectory* tls);

    StackConfig config_;
    su_root_s* root_ = nullptr;
    nta_agent_s* agent_ = nullptr;
    std::string local_host_;
    unsigned local_port_ = 0;
    unsigned tls_port_ = 0;
    std::unique_ptr<TraceTap> trace_; // --trace, --expect: sofia's transport dump
};

// A one-shot or repeating timer on a stack's event loop.
class Timer {
public:
    explicit Timer(SipStack& stack);
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    void start(unsigned ms, std::function<void()> callback); // replaces a pending one
    void cancel();

private:
    static void fire(SipStack* stack, su_timer_s* timer, void* arg);
    su_timer_s* timer_;
    std::function<void()> callback_;
};

// A periodic tick on a stack's event loop, from a timerfd that the loop
// waits on: sub-millisecond periods without the busy polling that sofia's
// own timers do when they are due within a millisecond.
class Ticker {
public:
    Ticker(SipStack& stack, unsigned period_us, std::function<void()> callback);
    ~Ticker();
    Ticker(const Ticker&) = delete;
    Ticker& operator=(const Ticker&) = delete;

    void fire(); // called by the event loop when the timerfd is readable

private:
    SipStack& stack_;
    int fd_ = -1;
    int index_ = -1;
    std::function<void()> callback_;
};

// Whether a request came over TLS (its top Via), and whether a URI asks for
// TLS (sips: or transport=tls).
bool arrived_over_tls(const sip_s* sip);
bool wants_tls(const void* url); // a sofia url_t

// Throws Failure(local) naming the cause (e.g. "Address already in use") when
// config.transport cannot bind config.host:config.port: sofia-sip loses the
// errno of a failed bind. Port 0 is not checked.
void check_bindable(const StackConfig& config);

// The local address a datagram to `host` would leave from (no packet is sent).
std::string source_address_towards(const std::string& host);

} // namespace imsp2p::sip
