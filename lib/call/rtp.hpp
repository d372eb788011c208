// RTP (RFC 3550) for one audio stream on a UDP socket in the call's event
// loop: a G.711 tone, a WAV file (or an echo of what arrives) every 20 ms,
// the receiver statistics of RFC 3550 A.1 (loss) and A.8 (interarrival
// jitter), and RTCP reports (SR/RR on the RTP port + 1, or on the RTP port
// with rtcp-mux) from which a round-trip time and a one-way delay estimate
// (half of it) are taken.
#pragma once

#include "call/nua.hpp"
#include "call/rtcp.hpp"
#include "call/sdp.hpp"
#include "call/wav.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <sys/socket.h>

namespace imsp2p::call {

struct RtpStats {
    std::uint64_t packets_sent = 0;
    std::uint64_t packets_received = 0;
    std::int64_t packets_lost = 0;   // expected - received (RFC 3550 A.3; negative with duplicates)
    double loss_percent = 0;
    double jitter_ms = 0;            // RFC 3550 A.8, at the end of the call
    double max_jitter_ms = 0;
    std::uint64_t bad_packets = 0;   // too short or not RTP version 2
    std::uint64_t rtcp_sent = 0, rtcp_received = 0;
    unsigned rtt_samples = 0;
    double rtt_ms = 0;               // mean of the RTCP round trips (valid with rtt_samples > 0)
};

// What the sender sends.
struct AudioSource {
    bool echo = false;               // what arrives goes back
    unsigned tone_hz = 440;
    std::shared_ptr<const WavAudio> wav; // set: the file's samples, from its start, looped
};

class RtpSession {
public:
    // Binds a UDP socket on host, any port (even, with RTCP on the next one
    // when it is free), and RTCP's unless rtcp_interval is 0.
    // Failure(local) when it cannot.
    RtpSession(su_root_t* root, const std::string& host, double rtcp_interval);
    ~RtpSession();
    RtpSession(const RtpSession&) = delete;
    RtpSession& operator=(const RtpSession&) = delete;

    unsigned port() const { return port_; }
    unsigned rtcp_port() const { return rtcp_port_; } // 0: no RTCP

    // Starts sending to the peer's media with `codec`, RTCP to its RTCP
    // port, or on the RTP port with `rtcp_mux` (both sides said so).
    // Receiving runs from construction on.
    void start(const RemoteMedia& remote, const Codec& codec, const AudioSource& source, bool rtcp_mux);
    void stop();  // stops sending (a last RTCP report with BYE); the statistics stay

    RtpStats stats() const;
    // {codec, local, remote, packets_sent, packets_received, packets_lost, loss_percent, jitter_ms, ...}
    nlohmann::json json() const;

private:
    static int readable(UserAgent*, su_wait_t*, su_wakeup_arg_t* self);
    static int rtcp_readable(UserAgent*, su_wait_t*, su_wakeup_arg_t* self);
    static int tick(UserAgent*, su_wait_t*, su_wakeup_arg_t* self);
    static void rtcp_due(UserAgent*, su_timer_t*, su_timer_arg_t* self);
    void bind_sockets(const std::string& host);
    void receive();
    void receive_rtcp(const std::uint8_t* data, std::size_t size);
    void send_frame();
    void send_payload(const std::uint8_t* payload, std::size_t size);
    void send_rtcp(bool bye);
    void schedule_rtcp(double factor);

    su_root_t* root_;
    std::string host_;
    unsigned port_ = 0, rtcp_port_ = 0;
    int fd_ = -1, rtcp_fd_ = -1, timer_fd_ = -1;
    int fd_index_ = -1, rtcp_index_ = -1, timer_index_ = -1;
    bool sending_ = false;
    AudioSource source_;
    Codec codec_;
    sockaddr_storage remote_{}, remote_rtcp_{};
    socklen_t remote_length_ = 0, remote_rtcp_length_ = 0;
    std::string remote_text_;
    // Sender state.
    std::uint32_t ssrc_ = 0;
    std::uint16_t sequence_ = 0;
    std::uint32_t timestamp_ = 0;
    std::uint64_t samples_ = 0;
    std::uint64_t sent_ = 0, octets_ = 0;
    // Receiver state (RFC 3550 A.1, A.3, A.8).
    bool have_first_ = false;
    std::uint32_t peer_ssrc_ = 0;
    std::uint16_t max_seq_ = 0;
    std::uint32_t base_seq_ = 0, cycles_ = 0;
    std::uint64_t received_ = 0, bad_ = 0;
    std::int64_t expected_prior_ = 0;
    std::uint64_t received_prior_ = 0;
    double jitter_ = 0, max_jitter_ = 0; // in timestamp units
    double last_transit_ = 0;
    std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
    // RTCP state.
    double rtcp_interval_ = 0;
    bool rtcp_mux_ = false;
    su_timer_t* rtcp_timer_ = nullptr;
    std::string cname_;
    std::uint64_t rtcp_sent_ = 0, rtcp_received_ = 0, rtcp_bad_ = 0;
    std::uint32_t last_sr_ = 0;          // middle 32 bits of the peer's last SR (its LSR)
    std::chrono::steady_clock::time_point last_sr_at_;
    unsigned rtt_samples_ = 0;
    double rtt_sum_ = 0;                 // seconds
    bool peer_reported_ = false;
    rtcp::ReportBlock peer_report_;      // the peer's last report block about us
};

} // namespace imsp2p::call
