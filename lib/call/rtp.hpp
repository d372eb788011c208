// RTP (RFC 3550) for one audio stream on a UDP socket in the call's event
// loop: a G.711 tone (or an echo of what arrives) every 20 ms, and the
// receiver statistics of RFC 3550 A.1 (loss) and A.8 (interarrival jitter).
#pragma once

#include "call/sdp.hpp"
#include "call/nua.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
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
};

class RtpSession {
public:
    // Binds a UDP socket on host, any port (Failure(local) when it cannot).
    RtpSession(su_root_t* root, const std::string& host);
    ~RtpSession();
    RtpSession(const RtpSession&) = delete;
    RtpSession& operator=(const RtpSession&) = delete;

    unsigned port() const { return port_; }

    // Starts sending to remote with `codec`: a tone of tone_hz, or (echo) what
    // arrives. Receiving runs from construction on.
    void start(const std::string& remote_host, unsigned remote_port, const Codec& codec, bool echo, unsigned tone_hz);
    void stop();  // stops sending; the statistics stay

    RtpStats stats() const;
    // {codec, local, remote, packets_sent, packets_received, packets_lost, loss_percent, jitter_ms, ...}
    nlohmann::json json() const;

private:
    static int readable(UserAgent*, su_wait_t*, su_wakeup_arg_t* self);
    static int tick(UserAgent*, su_wait_t*, su_wakeup_arg_t* self);
    void receive();
    void send_frame();
    void send_payload(const std::uint8_t* payload, std::size_t size);

    su_root_t* root_;
    std::string host_;
    unsigned port_ = 0;
    int fd_ = -1, timer_fd_ = -1;
    int fd_index_ = -1, timer_index_ = -1;
    bool sending_ = false, echo_ = false;
    Codec codec_;
    unsigned tone_hz_ = 440;
    sockaddr_storage remote_{};
    socklen_t remote_length_ = 0;
    std::string remote_text_;
    // Sender state.
    std::uint32_t ssrc_ = 0;
    std::uint16_t sequence_ = 0;
    std::uint32_t timestamp_ = 0;
    std::uint64_t samples_ = 0;
    std::uint64_t sent_ = 0;
    // Receiver state (RFC 3550 A.1, A.8).
    bool have_first_ = false;
    std::uint16_t max_seq_ = 0;
    std::uint32_t base_seq_ = 0, cycles_ = 0;
    std::uint64_t received_ = 0, bad_ = 0;
    double jitter_ = 0, max_jitter_ = 0; // in timestamp units
    double last_transit_ = 0;
    std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
};

} // namespace imsp2p::call
