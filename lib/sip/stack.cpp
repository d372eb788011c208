#include "sip/stack.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia.hpp"
#include "sip/sofia_init.hpp"
#include "sip/trace_writer.hpp"

#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strings.h>
#include <mutex>

namespace imsp2p::sip {
namespace {

int ticker_ready(SipStack*, su_wait_t*, su_wakeup_arg_t* ticker)
{
    static_cast<Ticker*>(ticker)->fire();
    return 0;
}

std::string url_host(const std::string& host)
{
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// What nta binds a listener to. TLS as sips:, since this sofia-sip build
// answers "Protocol not supported" to sip:...;transport=tls.
std::string bind_url(const std::string& transport, const std::string& host, unsigned port)
{
    const std::string port_text = port ? std::to_string(port) : "*";
    if (transport == "tls")
        return fmt::format("sips:{}:{}", url_host(host), port_text);
    return fmt::format("sip:{}:{};transport={}", url_host(host), port_text, transport);
}

} // namespace

// sofia-sip loses the errno of a failed bind: try the address first, so a
// port in use is reported as such.
void check_bindable(const StackConfig& config)
{
    if (config.port == 0)
        return;
    addrinfo hints{};
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    hints.ai_socktype = config.transport == "udp" ? SOCK_DGRAM : SOCK_STREAM;
    addrinfo* address = nullptr;
    if (getaddrinfo(config.host.c_str(), std::to_string(config.port).c_str(), &hints, &address) != 0)
        return;
    const int fd = socket(address->ai_family, address->ai_socktype, 0);
    const int one = 1;
    if (hints.ai_socktype == SOCK_STREAM)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const int result = fd < 0 ? -1 : bind(fd, address->ai_addr, address->ai_addrlen);
    const int error = errno;
    if (fd >= 0)
        close(fd);
    freeaddrinfo(address);
    if (result != 0)
        throw Failure(Outcome::local, fmt::format("cannot listen on {} {}:{}: {}", config.transport, config.host,
                                                  config.port, std::strerror(error)));
}

SipStack::SipStack(const StackConfig& config) : config_(config)
{
    check_bindable(config);
    StackConfig tcp = config;
    tcp.transport = "tcp";
    if (config.also_tcp)
        check_bindable(tcp);
    StackConfig tls_listener = config;
    tls_listener.transport = "tls";
    tls_listener.host = config.tls_host;
    tls_listener.port = config.tls_port;
    if (!config.tls_host.empty())
        check_bindable(tls_listener);
    // sofia reads the TLS files when the transport is made: the copies go
    // when the constructor ends.
    std::unique_ptr<TlsDirectory> tls;
    if (config.transport == "tls" || !config.tls_host.empty())
        tls = std::make_unique<TlsDirectory>(config.tls);
    // Before the event loop: opening the trace throws on an unwritable file,
    // and a throwing constructor would leave the loop to nobody.
    if (TraceWriter::instance().active())
        trace_ = std::make_unique<TraceTap>();
    init_sofia_once();
    root_ = su_root_create(this);
    if (!root_)
        throw Failure(Outcome::local, "cannot create the SIP event loop");

    const std::string bind = bind_url(config.transport, config.host, config.port);
    const auto t1x64 = static_cast<unsigned>(config.transaction_timeout * 1000);
    errno = 0;
    agent_ = nta_agent_create(root_, URL_STRING_MAKE(bind.c_str()), nullptr, nullptr,
                              NTATAG_SIP_T1X64(t1x64 ? t1x64 : 1), NTATAG_SIP_T4(config.timer_k_ms), NTATAG_CLIENT_RPORT(1), NTATAG_UA(!config.proxy),
                              NTATAG_UDP_MTU(65535), TAG_IF(trace_, TPTAG_DUMP(trace_ ? trace_->dump_path() : "")),
                              TAG_IF(tls, TPTAG_CERTIFICATE(tls ? tls->path().c_str() : "")),
                              TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(tls ? tls->policy() : 0)), TAG_END());
    if (!agent_) {
        const int error = errno;
        su_root_destroy(root_);
        throw Failure(Outcome::local, fmt::format("cannot listen on {} {}:{}: {}", config.transport, config.host,
                                                  config.port, error ? std::strerror(error) : "unknown error"));
    }
    const sip_contact_t* contact = nta_agent_contact(agent_);
    local_host_ = config.host;
    local_port_ = config.port;
    if (contact && contact->m_url->url_port)
        local_port_ = static_cast<unsigned>(std::stoul(contact->m_url->url_port));
    if (config.also_tcp) {
        // The same port as UDP, as servers are found (RFC 3263: one port per host).
        tcp.port = local_port_;
        add_transport(tcp, nullptr);
    }
    if (!config.tls_host.empty()) {
        add_transport(tls_listener, tls.get());
        tls_port_ = config.tls_port;
    }
}

// A further listener on the agent (servers: TCP beside UDP, TLS).
void SipStack::add_transport(const StackConfig& listener, const TlsDirectory* tls)
{
    const std::string bind = bind_url(listener.transport, listener.host, listener.port);
    errno = 0;
    if (nta_agent_add_tport(agent_, URL_STRING_MAKE(bind.c_str()), TAG_IF(tls, TPTAG_CERTIFICATE(tls ? tls->path().c_str() : "")),
                            TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(tls ? tls->policy() : 0)), TAG_END()) != 0) {
        const int error = errno;
        nta_agent_destroy(agent_);
        su_root_destroy(root_);
        throw Failure(Outcome::local, fmt::format("cannot listen on {} {}:{}: {}", listener.transport, listener.host,
                                                  listener.port, error ? std::strerror(error) : "unknown error"));
    }
}

SipStack::~SipStack()
{
    if (agent_)
        nta_agent_destroy(agent_);
    if (root_)
        su_root_destroy(root_);
}

std::string SipStack::contact_uri(const std::string& user) const
{
    std::string uri = "sip:";
    if (!user.empty())
        uri += user + "@";
    uri += fmt::format("{}:{}", url_host(local_host_), local_port_);
    if (config_.transport != "udp")
        uri += ";transport=" + config_.transport;
    return uri;
}

std::string SipStack::tls_uri(const std::string& user) const
{
    if (!tls_port_)
        return {};
    return fmt::format("sips:{}{}{}:{}", user, user.empty() ? "" : "@", url_host(config_.tls_host), tls_port_);
}

bool SipStack::names_us(const void* raw) const
{
    const auto* url = static_cast<const url_t*>(raw);
    if (!url || !url->url_host)
        return false;
    const bool tls = wants_tls(url);
    const unsigned port = url->url_port ? static_cast<unsigned>(std::atoi(url->url_port)) : tls ? 5061 : 5060;
    if (tls)
        return tls_port_ && url->url_host == config_.tls_host && port == tls_port_;
    return url->url_host == local_host_ && port == local_port_;
}

bool arrived_over_tls(const sip_t* sip)
{
    return sip && sip->sip_via && sip->sip_via->v_protocol && strcasecmp(sip->sip_via->v_protocol, "SIP/2.0/TLS") == 0;
}

bool wants_tls(const void* raw)
{
    const auto* url = static_cast<const url_t*>(raw);
    if (!url)
        return false;
    if (url->url_type == url_sips)
        return true;
    char transport[16] = "";
    return url->url_params && url_param(url->url_params, "transport", transport, sizeof transport) > 0 &&
           strcasecmp(transport, "tls") == 0;
}

void SipStack::run()
{
    su_root_run(root_);
}

void SipStack::stop()
{
    su_root_break(root_);
}

StackStats SipStack::stats() const
{
    usize_t sent = 0, retry = 0, received = 0, bad = 0;
    nta_agent_get_stats(agent_, NTATAG_S_SENT_REQUEST_REF(sent), NTATAG_S_RETRY_REQUEST_REF(retry),
                        NTATAG_S_RECV_RESPONSE_REF(received), NTATAG_S_BAD_MESSAGE_REF(bad), TAG_END());
    return {sent, retry, received, bad};
}

Timer::Timer(SipStack& stack) : timer_(su_timer_create(su_root_task(stack.root()), 0))
{
    if (!timer_)
        throw Failure(Outcome::local, "cannot create a timer");
}

Timer::~Timer()
{
    su_timer_destroy(timer_);
}

void Timer::start(unsigned ms, std::function<void()> callback)
{
    callback_ = std::move(callback);
    su_timer_set_interval(timer_, &Timer::fire, this, static_cast<su_duration_t>(ms));
}

void Timer::cancel()
{
    su_timer_reset(timer_);
}

void Timer::fire(SipStack*, su_timer_s*, void* arg)
{
    auto* self = static_cast<Timer*>(arg);
    // The callback may restart this timer, which replaces callback_: run a copy.
    auto callback = self->callback_;
    if (callback)
        callback();
}

Ticker::Ticker(SipStack& stack, unsigned period_us, std::function<void()> callback)
    : stack_(stack), fd_(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)), callback_(std::move(callback))
{
    if (fd_ < 0)
        throw Failure(Outcome::local, fmt::format("timerfd: {}", std::strerror(errno)));
    itimerspec spec{};
    spec.it_interval.tv_sec = period_us / 1000000;
    spec.it_interval.tv_nsec = static_cast<long>(period_us % 1000000) * 1000;
    spec.it_value = spec.it_interval;
    su_wait_t wait = SU_WAIT_INIT;
    if (timerfd_settime(fd_, 0, &spec, nullptr) != 0 || su_wait_create(&wait, fd_, SU_WAIT_IN) != 0 ||
        (index_ = su_root_register(stack.root(), &wait, &ticker_ready, this, 0)) < 0) {
        close(fd_);
        throw Failure(Outcome::local, "cannot register a periodic timer with the event loop");
    }
}

Ticker::~Ticker()
{
    su_root_deregister(stack_.root(), index_);
    close(fd_);
}

void Ticker::fire()
{
    std::uint64_t expirations = 0;
    if (read(fd_, &expirations, sizeof expirations) == sizeof expirations && callback_)
        callback_();
}

std::string source_address_towards(const std::string& host)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST;
    addrinfo* result = nullptr;
    if (getaddrinfo(host.c_str(), "5060", &hints, &result) != 0)
        return {};
    std::string address;
    const int fd = socket(result->ai_family, SOCK_DGRAM, 0);
    sockaddr_storage local{};
    socklen_t length = sizeof local;
    if (fd >= 0 && connect(fd, result->ai_addr, result->ai_addrlen) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0) {
        char text[INET6_ADDRSTRLEN] = "";
        const void* raw = local.ss_family == AF_INET6
                              ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr)
                              : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&local)->sin_addr);
        if (inet_ntop(local.ss_family, raw, text, sizeof text))
            address = text;
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(result);
    return address;
}

} // namespace imsp2p::sip
