// RTCP (RFC 3550 section 6) for one RTP session: the compound packets
// ims-call sends (an SR, or an RR before it sends, with at most one report
// block, an SDES CNAME, and a BYE at the end) and what it reads from the
// peer's (its SR's NTP time, the report block about us). The round-trip time
// of RFC 3550 6.4.1 (A - LSR - DLSR) is computed from them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::call::rtcp {

struct SenderInfo {
    std::uint64_t ntp = 0;       // NTP timestamp (64 bits) when the SR was sent
    std::uint32_t rtp_timestamp = 0;
    std::uint32_t packets = 0, octets = 0;
};

struct ReportBlock {
    std::uint32_t ssrc = 0;      // the source reported on
    std::uint8_t fraction_lost = 0;
    std::int32_t cumulative_lost = 0; // 24 bits, signed
    std::uint32_t highest_seq = 0;    // extended
    std::uint32_t jitter = 0;         // timestamp units
    std::uint32_t lsr = 0, dlsr = 0;  // 1/65536 s
};

// What one compound packet said.
struct Report {
    std::uint32_t ssrc = 0;      // its sender
    std::optional<SenderInfo> sender;
    std::vector<ReportBlock> blocks;
    bool bye = false;
};

// A compound packet: SR (with `sender`) or RR, one report block or none,
// SDES with the CNAME, then BYE if `bye`.
std::vector<std::uint8_t> build(std::uint32_t ssrc, const std::optional<SenderInfo>& sender,
                                const std::optional<ReportBlock>& block, const std::string& cname, bool bye);

// nullopt when it is not a valid compound packet (the checks of RFC 3550
// A.2, except that the first packet may be of any RTCP type: RFC 5506).
std::optional<Report> parse(const std::uint8_t* data, std::size_t size);

// RFC 5761 4: on a multiplexed port, RTCP is what has a second byte of 192-223.
bool looks_like_rtcp(const std::uint8_t* data, std::size_t size);

// The wall clock as a 64-bit NTP timestamp, and its middle 32 bits (LSR units).
std::uint64_t ntp_now();
inline std::uint32_t middle32(std::uint64_t ntp) { return static_cast<std::uint32_t>(ntp >> 16); }

// RFC 3550 6.4.1: round-trip time in seconds from a report block received at
// `arrival` (middle 32 bits of NTP), or nullopt when the block holds no LSR.
std::optional<double> round_trip(const ReportBlock& block, std::uint32_t arrival);

} // namespace imsp2p::call::rtcp
