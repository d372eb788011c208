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

} // namespace

RtpSession::RtpSession(su_root_t* root, const std::string& host) : root_(root), host_(host)
{
    sockaddr_storage local{};
    socklen_t length = 0;
    if (!resolve(host, 0, local, length))
        throw Failure(Outcome::usage, fmt::format("RTP: '{}' is not an IP address", host));
    fd_ = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&local), length) != 0) {
        const int error = errno;
        if (fd_ >= 0)
            close(fd_);
        throw Failure(Outcome::local, fmt::format("cannot bind an RTP socket on {}: {}", host, std::strerror(error)));
    }
    length = sizeof local;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    port_ = ntohs(local.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&local)->sin6_port
                                              : reinterpret_cast<sockaddr_in*>(&local)->sin_port);
    su_wait_t wait = SU_WAIT_INIT;
    if (su_wait_create(&wait, fd_, SU_WAIT_IN) != 0 ||
        (fd_index_ = su_root_register(root_, &wait, &RtpSession::readable, this, 0)) < 0) {
        close(fd_);
        throw Failure(Outcome::local, "cannot register the RTP socket with the event loop");
    }
    const auto random = random_bytes(10);
    std::memcpy(&ssrc_, random.data(), 4);
    std::memcpy(&sequence_, random.data() + 4, 2);
    std::memcpy(&timestamp_, random.data() + 6, 4);
}

RtpSession::~RtpSession()
{
    stop();
    su_root_deregister(root_, fd_index_);
    close(fd_);
}

void RtpSession::start(const std::string& remote_host, unsigned remote_port, const Codec& codec, bool echo, unsigned tone_hz)
{
    if (sending_ || remote_port == 0)
        return;
    if (!resolve(remote_host, remote_port, remote_, remote_length_)) {
        spdlog::warn("RTP: cannot send to '{}' (not a numeric address)", remote_host);
        return;
    }
    remote_text_ = remote_host.find(':') != std::string::npos ? fmt::format("[{}]:{}", remote_host, remote_port)
                                                               : fmt::format("{}:{}", remote_host, remote_port);
    codec_ = codec;
    echo_ = echo;
    tone_hz_ = tone_hz;
    sending_ = true;
    if (echo_)
        return; // packets go back as they arrive
    timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    itimerspec spec{};
    spec.it_interval.tv_nsec = 20'000'000;
    spec.it_value.tv_nsec = 1'000'000; // the first frame right away
    su_wait_t wait = SU_WAIT_INIT;
    if (timer_fd_ < 0 || timerfd_settime(timer_fd_, 0, &spec, nullptr) != 0 ||
        su_wait_create(&wait, timer_fd_, SU_WAIT_IN) != 0 ||
        (timer_index_ = su_root_register(root_, &wait, &RtpSession::tick, this, 0)) < 0) {
        if (timer_fd_ >= 0)
            close(timer_fd_);
        timer_fd_ = -1;
        throw Failure(Outcome::local, "cannot start the RTP sender's timer");
    }
}

void RtpSession::stop()
{
    sending_ = false;
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
    const auto samples = tone(tone_hz_, samples_, frame_samples);
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
    if (sendto(fd_, packet, header_size + size, 0, reinterpret_cast<sockaddr*>(&remote_), remote_length_) > 0)
        ++sent_;
}

void RtpSession::receive()
{
    std::uint8_t packet[2048];
    for (int budget = 0; budget < 64; ++budget) {
        const ssize_t size = recv(fd_, packet, sizeof packet, 0);
        if (size < 0)
            return;
        if (size < static_cast<ssize_t>(header_size) || (packet[0] >> 6) != 2) {
            ++bad_;
            continue;
        }
        const auto now = std::chrono::steady_clock::now();
        std::uint16_t seq;
        std::uint32_t ts;
        std::memcpy(&seq, packet + 2, 2);
        std::memcpy(&ts, packet + 4, 4);
        seq = ntohs(seq);
        ts = ntohl(ts);
        // RFC 3550 A.1, without the probation of new sources.
        if (!have_first_) {
            have_first_ = true;
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
        if (echo_ && sending_) {
            const int pt = packet[1] & 0x7f;
            if (pt == codec_.pt)
                send_payload(packet + header_size, static_cast<std::size_t>(size) - header_size);
        }
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
    return s;
}

nlohmann::json RtpSession::json() const
{
    const RtpStats s = stats();
    return {
        {"codec", codec_.name.empty() ? nlohmann::json() : nlohmann::json(codec_.name)},
        {"payload_type", codec_.pt},
        {"local", host_.find(':') != std::string::npos ? fmt::format("[{}]:{}", host_, port_) : fmt::format("{}:{}", host_, port_)},
        {"remote", remote_text_.empty() ? nlohmann::json() : nlohmann::json(remote_text_)},
        {"mode", echo_ ? "echo" : "tone"},
        {"packets_sent", s.packets_sent},
        {"packets_received", s.packets_received},
        {"packets_lost", s.packets_lost},
        {"loss_percent", rounded(s.loss_percent, 0.01)},
        {"jitter_ms", rounded(s.jitter_ms, 0.001)},
        {"max_jitter_ms", rounded(s.max_jitter_ms, 0.001)},
        {"bad_packets", s.bad_packets},
    };
}

} // namespace imsp2p::call
