#include "call/user_agent.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia_init.hpp"
#include "sip/stack.hpp"
#include "sip/trace_writer.hpp"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>
#include <spdlog/spdlog.h>
#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <strings.h>
#include <mutex>
#include <utility>
#include <vector>

namespace imsp2p::call {
namespace {

std::string url_host(const std::string& host)
{
    return host.find(':') != std::string::npos ? "[" + host + "]" : host;
}

// A UDP port free on host now (bound and released).
unsigned free_udp_port(const std::string& host)
{
    sockaddr_storage address{};
    socklen_t length = 0;
    if (host.find(':') != std::string::npos) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
        v6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr);
        length = sizeof *v6;
    } else {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
        v4->sin_family = AF_INET;
        inet_pton(AF_INET, host.c_str(), &v4->sin_addr);
        length = sizeof *v4;
    }
    const int fd = socket(address.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    unsigned port = 0;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        port = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                                   : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    const int error = errno;
    if (fd >= 0)
        close(fd);
    if (port == 0)
        throw Failure(Outcome::local, fmt::format("cannot bind a UDP socket on {}: {}", host, std::strerror(error)));
    return port;
}

constexpr unsigned udp_buffer_bytes = 4u << 20;

} // namespace

UserAgent::UserAgent(const UaConfig& config) : config_(config)
{
    sip::StackConfig probe;
    probe.transport = config.tls ? "tls" : "udp";
    probe.host = config.host;
    probe.port = config.port;
    sip::check_bindable(probe); // a precise error for a port in use
    probe.transport = "tls";
    probe.host = config.tls_host;
    probe.port = config.tls_port;
    if (!config.tls_host.empty())
        sip::check_bindable(probe);
    // sofia reads the TLS files when nua makes its transports: the copies go
    // when the constructor ends.
    std::unique_ptr<sip::TlsDirectory> tls;
    if (config.tls || !config.tls_host.empty())
        tls = std::make_unique<sip::TlsDirectory>(config.tls_options);
    if (config_.port == 0)
        config_.port = free_udp_port(config_.host); // nua does not tell which port it took
    // Before the event loop: opening the trace throws on an unwritable file,
    // and a throwing constructor would leave the loop to nobody.
    if (sip::TraceWriter::instance().active())
        trace_ = std::make_unique<sip::TraceTap>();
    sip::init_sofia_once();
    root_ = su_root_create(this);
    if (!root_)
        throw Failure(Outcome::local, "cannot create the SIP event loop");
    su_root_threading(root_, 0); // nua's stack on this thread too: one loop, no locks
    // TLS as sips:: this sofia-sip build refuses to bind sip:...;transport=tls.
    const std::string bind = fmt::format("{}:{}:{}", config.tls ? "sips" : "sip", url_host(config_.host),
                                         config_.port ? std::to_string(config_.port) : std::string("*"));
    const std::string tls_bind =
        config.tls_host.empty() ? std::string() : fmt::format("sips:{}:{}", url_host(config.tls_host), config.tls_port);
    const auto t1x64 = static_cast<unsigned>(config.transaction_timeout * 1000);
    errno = 0;
    last_nta_agent_reset();
    nua_ = nua_create(root_, &UserAgent::callback, this, NUTAG_URL(bind.c_str()),
                      TAG_IF(!tls_bind.empty(), NUTAG_SIPS_URL(tls_bind.c_str())),
                      TAG_IF(tls, NUTAG_CERTIFICATE_DIR(tls ? tls->path().c_str() : "")),
                      TAG_IF(tls, TPTAG_TLS_VERIFY_POLICY(tls ? tls->policy() : 0)), NUTAG_MEDIA_ENABLE(0),
                      NUTAG_AUTOANSWER(0), NUTAG_AUTOALERT(0), NUTAG_AUTOACK(1), NUTAG_ENABLEMESSAGE(1),
                      NTATAG_SIP_T1X64(t1x64 ? t1x64 : 1), NTATAG_CLIENT_RPORT(1),
                      TAG_IF(!config.proxy.empty(), NUTAG_PROXY(config.proxy.c_str())),
                      TAG_IF(!config.from.empty(), SIPTAG_FROM_STR(config.from.c_str())),
                      TAG_IF(!config.contact_user.empty(), NUTAG_M_USERNAME(config.contact_user.c_str())),
                      TAG_IF(!config.user_agent.empty(), SIPTAG_USER_AGENT_STR(config.user_agent.c_str())),
                      SIPTAG_ALLOW_STR("INVITE, ACK, BYE, CANCEL, OPTIONS, MESSAGE, PRACK, UPDATE"),
                      // nua answers an UPDATE itself, without SDP (media is ours): the
                      // application answers it when it takes offers there.
                      TAG_IF(config.answers_update, NUTAG_APPL_METHOD("INVITE, REGISTER, PUBLISH, SUBSCRIBE, UPDATE")),
                      TAG_IF(config.precondition, SIPTAG_SUPPORTED_STR("100rel, timer, precondition")),
                      // Large socket buffers: under load a burst of answers (or a few ms
                      // off the CPU on a shared machine) must not overflow the kernel's default
                      // 208 KiB, which costs a retransmission per lost datagram.
                      TPTAG_UDP_RMEM(udp_buffer_bytes), TPTAG_UDP_WMEM(udp_buffer_bytes),
                      TAG_IF(trace_, TPTAG_DUMP(trace_ ? trace_->dump_path() : "")),
                      TAG_END());
    agent_ = last_nta_agent();
    if (!nua_) {
        const int error = errno;
        su_root_destroy(root_);
        throw Failure(Outcome::local, fmt::format("cannot listen on {} {}:{}: {}", config.tls ? "tls" : "udp", config.host, config.port,
                                                  error ? std::strerror(error) : "unknown error"));
    }
}

namespace {

// A stack whose nua could not be destroyed is kept until the process exits,
// reachable from here: LeakSanitizer then does not count it as a leak.
void keep_until_exit(nua_t* nua, su_root_t* root)
{
    static std::mutex mutex;
    static std::vector<std::pair<nua_t*, su_root_t*>> kept;
    const std::lock_guard lock(mutex);
    kept.emplace_back(nua, root);
}

} // namespace

UserAgent::~UserAgent()
{
    if (!abandoned_)
        shutdown();
    // sofia-sip's nua_destroy refuses a nua whose shutdown did not finish
    // (a transaction still waiting for its peer past the bound), and its
    // root must outlive it.
    if (abandoned_ || !shutdown_finished_) {
        if (nua_)
            keep_until_exit(nua_, root_);
        return;
    }
    if (nua_)
        nua_destroy(nua_);
    if (root_)
        su_root_destroy(root_);
}

std::string UserAgent::local() const
{
    return fmt::format("{}:{}", url_host(config_.host), config_.port);
}

void UserAgent::run()
{
    su_root_run(root_);
    if (error_) {
        auto error = error_;
        error_ = nullptr;
        std::rethrow_exception(error);
    }
}

void UserAgent::fail(std::exception_ptr error)
{
    if (!error_)
        error_ = error;
    stop();
}

void UserAgent::stop()
{
    su_root_break(root_);
}

// nua_shutdown ends every dialog (BYE, CANCEL, 480 to pending INVITEs) and
// answers with nua_r_shutdown; wait for it, bounded.
void UserAgent::shutdown()
{
    if (!nua_ || shut_down_)
        return;
    handler_ = nullptr;
    nua_shutdown(nua_);
    LoopTimer limit(*this);
    limit.start(3.0, [this] {
        spdlog::debug("nua shutdown did not finish within 3 s");
        shut_down_ = true;
        stop();
    });
    while (!shut_down_)
        su_root_run(root_);
}

void UserAgent::callback(nua_event_t event, int status, char const* phrase, nua_t*, UserAgent* self,
                         nua_handle_t* nh, Leg* leg, sip_t const* sip, tagi_t tags[])
{
    spdlog::debug("nua event {} {} {}", nua_event_name(event), status, phrase ? phrase : "");
    if (event == nua_r_shutdown) {
        if (status >= 200) {
            self->shut_down_ = true;
            self->shutdown_finished_ = true;
            self->stop();
        }
        return;
    }
    if (self->handler_) {
        NuaEvent e{event, status, phrase, nh, leg, sip, tags};
        // A response nta made itself (timeout, ICMP unreachable) looks like a
        // received one; only a received one has the address it came from.
        // The saved event keeps `sip` valid until the handler returns.
        nua_saved_event_t saved[1] = {};
        const bool is_saved = sip && sip->sip_status && nua_save_event(self->nua_, saved);
        if (is_saved) {
            const nua_event_data_t* data = nua_event_data(saved);
            su_addrinfo_t* address = data && data->e_msg ? msg_addrinfo(data->e_msg) : nullptr;
            e.received = address && address->ai_family != 0; // made by nta: AF_UNSPEC
        }
        try {
            self->handler_(e);
        } catch (...) {
            self->fail(std::current_exception());
        }
        if (is_saved)
            nua_destroy_event(saved);
        return;
    }
    // No handler (shutting down): drop handles nua created for incoming requests.
    if (!leg && nh && (event == nua_i_invite || event == nua_i_message))
        nua_handle_destroy(nh);
}

LoopTimer::LoopTimer(UserAgent& ua) : ua_(ua), timer_(su_timer_create(su_root_task(ua.root()), 0))
{
    if (!timer_)
        throw Failure(Outcome::local, "cannot create a timer");
}

LoopTimer::~LoopTimer()
{
    su_timer_destroy(timer_);
}

void LoopTimer::start(double seconds, std::function<void()> callback)
{
    callback_ = std::move(callback);
    su_timer_set_interval(timer_, &LoopTimer::fire, reinterpret_cast<su_timer_arg_t*>(this),
                          static_cast<su_duration_t>(std::max(0.0, seconds) * 1000));
}

void LoopTimer::cancel()
{
    su_timer_reset(timer_);
}

void LoopTimer::fire(UserAgent*, su_timer_t*, su_timer_arg_t* arg)
{
    auto* self = reinterpret_cast<LoopTimer*>(arg);
    auto callback = self->callback_;
    try {
        if (callback)
            callback();
    } catch (...) {
        self->ua_.fail(std::current_exception());
    }
}

std::string challenge_realm(const sip_t* sip, std::string& scheme, std::string& algorithm, bool& stale)
{
    const msg_auth_t* challenge = nullptr;
    if (sip && sip->sip_www_authenticate)
        challenge = sip->sip_www_authenticate;
    else if (sip && sip->sip_proxy_authenticate)
        challenge = sip->sip_proxy_authenticate;
    if (!challenge)
        return {};
    scheme = challenge->au_scheme ? challenge->au_scheme : "";
    const char* realm = msg_params_find(challenge->au_params, "realm=");
    const char* algo = msg_params_find(challenge->au_params, "algorithm=");
    algorithm = algo ? algo : "";
    const char* is_stale = msg_params_find(challenge->au_params, "stale=");
    stale = is_stale && strcasecmp(is_stale, "true") == 0;
    return realm ? realm : "";
}

std::string payload_text(const sip_t* sip)
{
    if (!sip || !sip->sip_payload || !sip->sip_payload->pl_data)
        return {};
    return std::string(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
}

} // namespace imsp2p::call
