#include "call/rtp.hpp"

#include "call/g711.hpp"
#include "cli/outcome.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace imsp2p::call {
namespace {

constexpr unsigned frame_samples = 160; // 20 ms at 8 kHz
constexpr std::size_t header_size = 12;

bool resolve(const std::string& host, unsigned port, sockaddr_storage& out, socklen_t& length)
{
    addrinfo hints{};
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    addrinfo* result = nullptr;
    if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &result) != 0)
        return false;
    std::memcpy(&out, result->ai_addr, result->ai_addrlen);
    length = result->ai_addrlen;
    freeaddrinfo(result);
    return true;
}

double rounded(double value, double unit)
{
    const double scale = 1 / unit;
    return std::round(value * scale) / scale;
}

// A UDP socket on host:port (0: any), non-blocking; -1 (errno set) when it cannot be bound.
int bind_udp(const std::string& host, unsigned port, unsigned& bound)
{
    sockaddr_storage local{};
    socklen_t length = 0;
    if (!resolve(host, port, local, length)) {
        errno = EINVAL;
        return -1;
    }
    const int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), length) != 0) {
        const int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    length = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    bound = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    return fd;
}

int register_fd(su_root_t* root, int fd, su_wakeup_f callback, void* arg)
{
    su_wait_t wait = SU_WAIT_INIT;
    if (su_wait_create(&wait, fd, SU_WAIT_IN) != 0)
        return -1;
    return su_root_register(root, &wait, callback, static_cast<su_wakeup_arg_t*>(arg), 0);
}

} // namespace

RtpSession::RtpSession(su_root_t* root, const std::string& host, double rtcp_interval)
    : root_(root), host_(host), rtcp_interval_(rtcp_interval)
{
    sockaddr_storage probe{};
    socklen_t probe_length = 0;
    if (!resolve(host, 0, probe, probe_length))
        throw Failure(Outcome::usage, fmt::format("RTP: '{}' is not an IP address", host));
    bind_sockets(host);
    if ((fd_index_ = register_fd(root_, fd_, &RtpSession::readable, this)) < 0 ||
        (rtcp_fd_ >= 0 && (rtcp_index_ = register_fd(root_, rtcp_fd_, &RtpSession::rtcp_readable, this)) < 0)) {
        close(fd_);
        if (rtcp_fd_ >= 0)
            close(rtcp_fd_);
        throw Failure(Outcome::local, "cannot register the RTP socket with the event loop");
    }
    if (rtcp_fd_ >= 0)
        rtcp_timer_ = su_timer_create(su_root_task(root_), 0);
    const auto random = random_bytes(10);
    std::memcpy(&ssrc_, random.data(), 4);
    std::memcpy(&sequence_, random.data() + 4, 2);
    std::memcpy(&timestamp_, random.data() + 6, 4);
    cname_ = fmt::format("ims-call-{:08x}@{}", ssrc_, host_);
}

// RTP on an even port and RTCP on the next (RFC 3550 11) when such a pair
// is free within a few tries; else RTCP on any port (the SDP says which, RFC 3605).
void RtpSession::bind_sockets(const std::string& host)
{
    for (int attempt = 0; attempt < 20 && fd_ < 0; ++attempt) {
        unsigned port = 0;
        const int fd = bind_udp(host, 0, port);
        if (fd < 0)
            break;
        if (rtcp_interval_ <= 0) {
            fd_ = fd, port_ = port;
            return;
        }
        unsigned next = 0;
        const int next_fd = port % 2 == 0 && port < 65535 ? bind_udp(host, port + 1, next) : -1;
        if (next_fd >= 0) {
            fd_ = fd, port_ = port, rtcp_fd_ = next_fd, rtcp_port_ = next;
            return;
        }
        close(fd);
    }
    if (fd_ < 0)
        fd_ = bind_udp(host, 0, port_);
    if (fd_ < 0)
        throw Failure(Outcome::local, fmt::format("cannot bind an RTP socket on {}: {}", host, std::strerror(errno)));
    if (rtcp_interval_ > 0 && rtcp_fd_ < 0 && (rtcp_fd_ = bind_udp(host, 0, rtcp_port_)) < 0) {
        const int error = errno;
        close(fd_);
        throw Failure(Outcome::local, fmt::format("cannot bind an RTCP socket on {}: {}", host, std::strerror(error)));
    }
}

RtpSession::~RtpSession()
{
    stop();
    if (rtcp_timer_)
        su_timer_destroy(rtcp_timer_);
    su_root_deregister(root_, fd_index_);
    close(fd_);
    if (rtcp_fd_ >= 0) {
        su_root_deregister(root_, rtcp_index_);
        close(rtcp_fd_);
    }
}

void RtpSession::start(const RemoteMedia& remote, const Codec& codec, const AudioSource& source, bool rtcp_mux)
{
    if (sending_ || remote.port == 0)
        return;
    if (!resolve(remote.address, remote.port, remote_, remote_length_)) {
        spdlog::warn("RTP: cannot send to '{}' (not a numeric address)", remote.address);
        return;
    }
    remote_text_ = remote.address.find(':') != std::string::npos ? fmt::format("[{}]:{}", remote.address, remote.port)
                                                                  : fmt::format("{}:{}", remote.address, remote.port);
    codec_ = codec;
    source_ = source;
    sending_ = true;
    if (rtcp_fd_ >= 0) {
        rtcp_mux_ = rtcp_mux;
        const unsigned port = rtcp_mux_ ? remote.port : remote.rtcp_port ? remote.rtcp_port : remote.port + 1;
        resolve(remote.address, port, remote_rtcp_, remote_rtcp_length_);
        schedule_rtcp(0.5); // the first report after half an interval (RFC 3550 6.2)
    }
    if (source_.echo)
        return; // packets go back as they arrive
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    itimerspec spec{};
    spec.it_interval.tv_nsec = 20'000'000;
    spec.it_value.tv_nsec = 1'000'000; // the first frame right away
    if (timer_fd_ < 0 || timerfd_settime(timer_fd_, 0, &spec, nullptr) != 0 ||
        (timer_index_ = register_fd(root_, timer_fd_, &RtpSession::tick, this)) < 0) {
        if (timer_fd_ >= 0)
            close(timer_fd_);
        timer_fd_ = -1;
        throw Failure(Outcome::local, "cannot start the RTP sender's timer");
    }
}

void RtpSession::stop()
{
    if (sending_ && rtcp_fd_ >= 0)
        send_rtcp(true); // RFC 3550 6.3.7: BYE when leaving
    sending_ = false;
    if (rtcp_timer_)
        su_timer_reset(rtcp_timer_);
    if (timer_fd_ >= 0) {
        su_root_deregister(root_, timer_index_);
        close(timer_fd_);
        timer_fd_ = -1;
    }
}

int RtpSession::readable(UserAgent*, su_wait_t*, su_wakeup_arg_t* self)
{
    static_cast<RtpSession*>(self)->receive();
    return 0;
}

int RtpSession::rtcp_readable(UserAgent*, su_wait_t*, su_wakeup_arg_t* self)
{
    auto* session = static_cast<RtpSession*>(self);
    std::uint8_t packet[2048];
    for (int budget = 0; budget < 16; ++budget) {
        const ssize_t size = recv(session->rtcp_fd_, packet, sizeof packet, 0);
        if (size < 0)
            break;
        session->receive_rtcp(packet, static_cast<std::size_t>(size));
    }
    return 0;
}

int RtpSession::tick(UserAgent*, su_wait_t*, su_wakeup_arg_t* self)
{
    auto* session = static_cast<RtpSession*>(self);
    std::uint64_t expirations = 0;
    if (read(session->timer_fd_, &expirations, sizeof expirations) != sizeof expirations)
        return 0;
    // A late loop catches up, but never by more than a second of audio.
    for (std::uint64_t i = 0; i < std::min<std::uint64_t>(expirations, 50) && session->sending_; ++i)
        session->send_frame();
    return 0;
}

void RtpSession::send_frame()
{
    std::int16_t samples[frame_samples];
    if (source_.wav) {
        const auto& wav = source_.wav->samples;
        for (unsigned i = 0; i < frame_samples; ++i)
            samples[i] = wav[(samples_ + i) % wav.size()];
    } else {
        const auto generated = tone(source_.tone_hz, samples_, frame_samples);
        std::copy(generated.begin(), generated.end(), samples);
    }
    std::uint8_t payload[frame_samples];
    for (unsigned i = 0; i < frame_samples; ++i)
        payload[i] = codec_.name == "PCMA" ? linear_to_alaw(samples[i]) : linear_to_ulaw(samples[i]);
    send_payload(payload, frame_samples);
    samples_ += frame_samples;
}

void RtpSession::send_payload(const std::uint8_t* payload, std::size_t size)
{
    std::uint8_t packet[header_size + 1500];
    size = std::min<std::size_t>(size, 1500);
    packet[0] = 0x80; // V=2
    packet[1] = static_cast<std::uint8_t>(codec_.pt & 0x7f);
    const std::uint16_t seq = htons(sequence_++);
    const std::uint32_t ts = htonl(timestamp_);
    const std::uint32_t ssrc = htonl(ssrc_);
    std::memcpy(packet + 2, &seq, 2);
    std::memcpy(packet + 4, &ts, 4);
    std::memcpy(packet + 8, &ssrc, 4);
    std::memcpy(packet + header_size, payload, size);
    timestamp_ += static_cast<std::uint32_t>(size); // 1 byte per sample in G.711
    if (sendto(fd_, packet, header_size + size, 0, reinterpret_cast<sockaddr*>(&remote_), remote_length_) > 0) {
        ++sent_;
        octets_ += size;
    }
}

void RtpSession::receive()
{
    std::uint8_t packet[2048];
    for (int budget = 0; budget < 64; ++budget) {
        const ssize_t size = recv(fd_, packet, sizeof packet, 0);
        if (size < 0)
            return;
        // RFC 5761: with rtcp-mux, RTCP arrives here too (payload types 72-76 are never RTP's).
        if (rtcp::looks_like_rtcp(packet, static_cast<std::size_t>(size))) {
            receive_rtcp(packet, static_cast<std::size_t>(size));
            continue;
        }
        if (size < static_cast<ssize_t>(header_size) || (packet[0] >> 6) != 2) {
            ++bad_;
            continue;
        }
        const auto now = std::chrono::steady_clock::now();
        std::uint16_t seq;
        std::uint32_t ts, ssrc;
        std::memcpy(&seq, packet + 2, 2);
        std::memcpy(&ts, packet + 4, 4);
        std::memcpy(&ssrc, packet + 8, 4);
        seq = ntohs(seq);
        ts = ntohl(ts);
        // RFC 3550 A.1, without the probation of new sources.
        if (!have_first_) {
            have_first_ = true;
            peer_ssrc_ = ntohl(ssrc);
            base_seq_ = seq;
            max_seq_ = seq;
        } else {
            const std::uint16_t delta = static_cast<std::uint16_t>(seq - max_seq_);
            if (delta < 3000) {
                if (seq < max_seq_)
                    cycles_ += 65536;
                max_seq_ = seq;
            }
        }
        ++received_;
        // RFC 3550 A.8: interarrival jitter in timestamp units (8 kHz).
        const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - epoch_).count();
        // In timestamp units, kept fractional: loopback jitter is well below one unit (125 µs).
        const double arrival = static_cast<double>(elapsed) * 8 / 1000;
        const double transit = arrival - static_cast<double>(ts);
        if (received_ > 1) {
            // Timestamps wrap at 2^32: take the difference modulo 2^32, signed.
            double d = std::fabs(transit - last_transit_);
            if (d > 2147483648.0)
                d = std::fabs(d - 4294967296.0);
            // A source whose timestamps jump (a new SSRC, a far end restarting)
            // would swamp the estimate: such a jump is not jitter.
            if (d < 8000 * 10)
                jitter_ += (d - jitter_) / 16.0;
            max_jitter_ = std::max(max_jitter_, jitter_);
        }
        last_transit_ = transit;
        if (source_.echo && sending_) {
            const int pt = packet[1] & 0x7f;
            if (pt == codec_.pt)
                send_payload(packet + header_size, static_cast<std::size_t>(size) - header_size);
        }
    }
}

void RtpSession::rtcp_due(UserAgent*, su_timer_t*, su_timer_arg_t* self)
{
    auto* session = reinterpret_cast<RtpSession*>(self);
    if (!session->sending_)
        return;
    session->send_rtcp(false);
    session->schedule_rtcp(1.0);
}

// RFC 3550 6.3.1: the interval randomised over [0.5, 1.5] of its value.
void RtpSession::schedule_rtcp(double factor)
{
    if (!rtcp_timer_)
        return;
    const auto random = random_bytes(2);
    const double spread = 0.5 + (static_cast<unsigned char>(random[0]) << 8 | static_cast<unsigned char>(random[1])) / 65536.0;
    const auto ms = static_cast<su_duration_t>(std::max(1.0, rtcp_interval_ * factor * spread * 1000));
    su_timer_set_interval(rtcp_timer_, &RtpSession::rtcp_due, reinterpret_cast<su_timer_arg_t*>(this), ms);
}

void RtpSession::send_rtcp(bool bye)
{
    const std::uint64_t ntp = rtcp::ntp_now();
    std::optional<rtcp::SenderInfo> sender;
    if (sent_ > 0)
        sender = rtcp::SenderInfo{ntp, timestamp_, static_cast<std::uint32_t>(sent_), static_cast<std::uint32_t>(octets_)};
    std::optional<rtcp::ReportBlock> block;
    if (have_first_) {
        // RFC 3550 A.3: the fraction lost since the last report, the cumulative count.
        rtcp::ReportBlock b;
        b.ssrc = peer_ssrc_;
        const std::int64_t expected = static_cast<std::int64_t>(cycles_) + max_seq_ - base_seq_ + 1;
        const std::int64_t expected_interval = expected - expected_prior_;
        const std::int64_t lost_interval = expected_interval - static_cast<std::int64_t>(received_ - received_prior_);
        expected_prior_ = expected;
        received_prior_ = received_;
        b.fraction_lost = expected_interval > 0 && lost_interval > 0
                              ? static_cast<std::uint8_t>(std::min<std::int64_t>((lost_interval << 8) / expected_interval, 255))
                              : 0;
        b.cumulative_lost = static_cast<std::int32_t>(
            std::clamp<std::int64_t>(expected - static_cast<std::int64_t>(received_), -0x800000, 0x7fffff));
        b.highest_seq = cycles_ + max_seq_;
        b.jitter = static_cast<std::uint32_t>(jitter_);
        if (last_sr_) {
            b.lsr = last_sr_;
            const double since = std::chrono::duration<double>(std::chrono::steady_clock::now() - last_sr_at_).count();
            b.dlsr = static_cast<std::uint32_t>(since * 65536);
        }
        block = b;
    }
    const auto packet = rtcp::build(ssrc_, sender, block, cname_, bye);
    const int fd = rtcp_mux_ ? fd_ : rtcp_fd_;
    if (remote_rtcp_length_ &&
        sendto(fd, packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&remote_rtcp_), remote_rtcp_length_) > 0)
        ++rtcp_sent_;
}

void RtpSession::receive_rtcp(const std::uint8_t* data, std::size_t size)
{
    const auto report = rtcp::parse(data, size);
    if (!report) {
        ++rtcp_bad_;
        spdlog::debug("RTCP: a malformed packet of {} bytes (first bytes {:02x} {:02x} {:02x} {:02x})", size, data[0],
                      size > 1 ? data[1] : 0, size > 2 ? data[2] : 0, size > 3 ? data[3] : 0);
        return;
    }
    ++rtcp_received_;
    const std::uint32_t arrival = rtcp::middle32(rtcp::ntp_now());
    if (report->sender) {
        last_sr_ = rtcp::middle32(report->sender->ntp);
        last_sr_at_ = std::chrono::steady_clock::now();
    }
    for (const auto& block : report->blocks) {
        if (block.ssrc != ssrc_)
            continue;
        if (const auto rtt = rtcp::round_trip(block, arrival)) {
            rtt_sum_ += *rtt;
            ++rtt_samples_;
        }
        peer_report_ = block;
        peer_reported_ = true;
    }
}

RtpStats RtpSession::stats() const
{
    RtpStats s;
    s.packets_sent = sent_;
    s.packets_received = received_;
    s.bad_packets = bad_;
    if (have_first_) {
        const std::int64_t expected = static_cast<std::int64_t>(cycles_) + max_seq_ - base_seq_ + 1;
        s.packets_lost = expected - static_cast<std::int64_t>(received_);
        s.loss_percent = expected > 0 ? 100.0 * static_cast<double>(std::max<std::int64_t>(s.packets_lost, 0)) /
                                            static_cast<double>(expected)
                                      : 0;
    }
    s.jitter_ms = jitter_ / 8.0;
    s.max_jitter_ms = max_jitter_ / 8.0;
    s.rtcp_sent = rtcp_sent_;
    s.rtcp_received = rtcp_received_;
    s.rtt_samples = rtt_samples_;
    s.rtt_ms = rtt_samples_ ? rtt_sum_ / rtt_samples_ * 1000 : 0;
    return s;
}

nlohmann::json RtpSession::json() const
{
    const RtpStats s = stats();
    const auto endpoint = [](const std::string& host, unsigned port) {
        return host.find(':') != std::string::npos ? fmt::format("[{}]:{}", host, port) : fmt::format("{}:{}", host, port);
    };
    nlohmann::json rtcp = nullptr;
    if (rtcp_fd_ >= 0)
        rtcp = {
            {"local", endpoint(host_, rtcp_mux_ ? port_ : rtcp_port_)},
            {"mux", rtcp_mux_},
            {"reports_sent", s.rtcp_sent},
            {"reports_received", s.rtcp_received},
            {"bad_reports", rtcp_bad_},
            {"rtt_samples", s.rtt_samples},
            // What the peer last reported about our stream.
            {"peer_packets_lost", peer_reported_ ? nlohmann::json(peer_report_.cumulative_lost) : nlohmann::json()},
            {"peer_jitter_ms", peer_reported_ ? nlohmann::json(rounded(peer_report_.jitter / 8.0, 0.001)) : nlohmann::json()},
        };
    const bool have_rtt = s.rtt_samples > 0;
    return {
        {"codec", codec_.name.empty() ? nlohmann::json() : nlohmann::json(codec_.name)},
        {"payload_type", codec_.pt},
        {"local", endpoint(host_, port_)},
        {"remote", remote_text_.empty() ? nlohmann::json() : nlohmann::json(remote_text_)},
        {"mode", source_.echo ? "echo" : source_.wav ? "wav" : "tone"},
        {"wav", source_.wav ? nlohmann::json(source_.wav->path) : nlohmann::json()},
        {"packets_sent", s.packets_sent},
        {"packets_received", s.packets_received},
        {"packets_lost", s.packets_lost},
        {"loss_percent", rounded(s.loss_percent, 0.01)},
        {"jitter_ms", rounded(s.jitter_ms, 0.001)},
        {"max_jitter_ms", rounded(s.max_jitter_ms, 0.001)},
        {"bad_packets", s.bad_packets},
        {"rtt_ms", have_rtt ? nlohmann::json(rounded(s.rtt_ms, 0.001)) : nlohmann::json()},
        {"one_way_delay_ms", have_rtt ? nlohmann::json(rounded(s.rtt_ms / 2, 0.001)) : nlohmann::json()},
        {"rtcp", rtcp},
    };
}

} // namespace imsp2p::call
