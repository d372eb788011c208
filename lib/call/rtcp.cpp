#include "call/rtcp.hpp"

#include <algorithm>
#include <chrono>

namespace imsp2p::call::rtcp {
namespace {

constexpr std::uint8_t pt_sr = 200, pt_rr = 201, pt_sdes = 202, pt_bye = 203;

void put16(std::vector<std::uint8_t>& out, std::uint32_t value)
{
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value));
}

void put32(std::vector<std::uint8_t>& out, std::uint32_t value)
{
    put16(out, value >> 16);
    put16(out, value & 0xffff);
}

std::uint32_t get32(const std::uint8_t* p)
{
    return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | p[3];
}

// A packet's header with its length field patched once the body is written.
std::size_t begin_packet(std::vector<std::uint8_t>& out, unsigned count, std::uint8_t type)
{
    const std::size_t start = out.size();
    out.push_back(static_cast<std::uint8_t>(0x80 | count)); // V=2, no padding
    out.push_back(type);
    put16(out, 0);
    return start;
}

void end_packet(std::vector<std::uint8_t>& out, std::size_t start)
{
    while ((out.size() - start) % 4)
        out.push_back(0);
    const std::size_t words = (out.size() - start) / 4 - 1;
    out[start + 2] = static_cast<std::uint8_t>(words >> 8);
    out[start + 3] = static_cast<std::uint8_t>(words);
}

} // namespace

std::vector<std::uint8_t> build(std::uint32_t ssrc, const std::optional<SenderInfo>& sender,
                                const std::optional<ReportBlock>& block, const std::string& cname, bool bye)
{
    std::vector<std::uint8_t> out;
    std::size_t start = begin_packet(out, block ? 1 : 0, sender ? pt_sr : pt_rr);
    put32(out, ssrc);
    if (sender) {
        put32(out, static_cast<std::uint32_t>(sender->ntp >> 32));
        put32(out, static_cast<std::uint32_t>(sender->ntp));
        put32(out, sender->rtp_timestamp);
        put32(out, sender->packets);
        put32(out, sender->octets);
    }
    if (block) {
        put32(out, block->ssrc);
        put32(out, std::uint32_t(block->fraction_lost) << 24 | (static_cast<std::uint32_t>(block->cumulative_lost) & 0xffffff));
        put32(out, block->highest_seq);
        put32(out, block->jitter);
        put32(out, block->lsr);
        put32(out, block->dlsr);
    }
    end_packet(out, start);
    // SDES: one chunk, CNAME item, then a null item ending the chunk (padded to a word).
    start = begin_packet(out, 1, pt_sdes);
    put32(out, ssrc);
    const std::size_t length = std::min<std::size_t>(cname.size(), 255);
    out.push_back(1); // CNAME
    out.push_back(static_cast<std::uint8_t>(length));
    out.insert(out.end(), cname.begin(), cname.begin() + static_cast<std::ptrdiff_t>(length));
    out.push_back(0);
    end_packet(out, start);
    if (bye) {
        start = begin_packet(out, 1, pt_bye);
        put32(out, ssrc);
        end_packet(out, start);
    }
    return out;
}

std::optional<Report> parse(const std::uint8_t* data, std::size_t size)
{
    // A.2, relaxed as RFC 5506 allows (a lone BYE, as baresip sends at the
    // end): every packet is version 2, of an RTCP type, and the lengths add
    // up to the datagram's.
    if (size < 8 || !looks_like_rtcp(data, size))
        return std::nullopt;
    Report report;
    for (std::size_t at = 0; at < size;) {
        if (size - at < 4 || (data[at] >> 6) != 2)
            return std::nullopt;
        const std::size_t length = (std::size_t(data[at + 2]) << 8 | data[at + 3]) * 4 + 4;
        if (length > size - at)
            return std::nullopt;
        const std::uint8_t* p = data + at;
        const unsigned count = p[0] & 0x1f;
        const std::uint8_t type = p[1];
        if ((type == pt_sr || type == pt_rr) && length >= 8) {
            std::size_t offset = 8;
            report.ssrc = get32(p + 4);
            if (type == pt_sr) {
                if (length < 28)
                    return std::nullopt;
                SenderInfo sender;
                sender.ntp = std::uint64_t(get32(p + 8)) << 32 | get32(p + 12);
                sender.rtp_timestamp = get32(p + 16);
                sender.packets = get32(p + 20);
                sender.octets = get32(p + 24);
                report.sender = sender;
                offset = 28;
            }
            for (unsigned i = 0; i < count && offset + 24 <= length; ++i, offset += 24) {
                const std::uint8_t* b = p + offset;
                ReportBlock block;
                block.ssrc = get32(b);
                block.fraction_lost = b[4];
                std::uint32_t lost = get32(b + 4) & 0xffffff;
                block.cumulative_lost = static_cast<std::int32_t>(lost & 0x800000 ? lost | 0xff000000 : lost);
                block.highest_seq = get32(b + 8);
                block.jitter = get32(b + 12);
                block.lsr = get32(b + 16);
                block.dlsr = get32(b + 20);
                report.blocks.push_back(block);
            }
        } else if (type == pt_bye) {
            report.bye = true;
        }
        at += length;
    }
    return report;
}

bool looks_like_rtcp(const std::uint8_t* data, std::size_t size)
{
    return size >= 2 && data[1] >= 192 && data[1] <= 223;
}

std::uint64_t ntp_now()
{
    using namespace std::chrono;
    constexpr std::uint64_t unix_to_ntp = 2208988800ull; // seconds from 1900 to 1970
    const auto since_epoch = duration_cast<nanoseconds>(system_clock::now().time_since_epoch()).count();
    const std::uint64_t seconds = static_cast<std::uint64_t>(since_epoch) / 1'000'000'000ull;
    const std::uint64_t nanos = static_cast<std::uint64_t>(since_epoch) % 1'000'000'000ull;
    return (seconds + unix_to_ntp) << 32 | ((nanos << 32) / 1'000'000'000ull);
}

std::optional<double> round_trip(const ReportBlock& block, std::uint32_t arrival)
{
    if (block.lsr == 0)
        return std::nullopt;
    // Modulo 2^32, as the middle bits wrap; a negative result is rounding.
    const std::int32_t rtt = static_cast<std::int32_t>(arrival - block.lsr - block.dlsr);
    return rtt > 0 ? rtt / 65536.0 : 0.0;
}

} // namespace imsp2p::call::rtcp
