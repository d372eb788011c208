#include "sip/pcap_writer.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <pcap/pcap.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <functional>

namespace imsp2p::sip {
namespace {

constexpr std::uint8_t protocol_tcp = 6, protocol_udp = 17;
constexpr std::size_t max_segment = 65535 - 60 - 40; // fits any IPv4 packet with options-free headers

void put16(std::string& out, std::size_t at, unsigned value)
{
    out[at] = static_cast<char>(value >> 8);
    out[at + 1] = static_cast<char>(value & 0xff);
}

void put32(std::string& out, std::size_t at, std::uint32_t value)
{
    put16(out, at, value >> 16);
    put16(out, at + 2, value & 0xffff);
}

std::uint32_t sum16(std::string_view bytes, std::uint32_t sum = 0)
{
    for (std::size_t i = 0; i + 1 < bytes.size(); i += 2)
        sum += (static_cast<std::uint8_t>(bytes[i]) << 8) | static_cast<std::uint8_t>(bytes[i + 1]);
    if (bytes.size() % 2)
        sum += static_cast<std::uint8_t>(bytes.back()) << 8;
    return sum;
}

unsigned fold(std::uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return ~sum & 0xffff;
}

// Numeric address as raw bytes; the unspecified address of `family` when it does not parse.
std::string address_bytes(const std::string& text, int family)
{
    std::string raw(family == AF_INET6 ? 16 : 4, '\0');
    inet_pton(family, text.c_str(), raw.data());
    return raw;
}

std::string packet(const TracedMessage& m, std::string_view payload, std::uint32_t sequence, std::uint32_t ack)
{
    const int family = m.remote_ip.find(':') != std::string::npos ? AF_INET6 : AF_INET;
    const std::string local = address_bytes(m.local_ip, family), remote = address_bytes(m.remote_ip, family);
    const std::string& source = m.sent ? local : remote;
    const std::string& destination = m.sent ? remote : local;
    const unsigned source_port = m.sent ? m.local_port : m.remote_port;
    const unsigned destination_port = m.sent ? m.remote_port : m.local_port;
    const bool udp = m.transport == "udp";

    std::string transport(udp ? 8 : 20, '\0');
    put16(transport, 0, source_port);
    put16(transport, 2, destination_port);
    if (udp) {
        put16(transport, 4, static_cast<unsigned>(8 + payload.size()));
    } else {
        put32(transport, 4, sequence);
        put32(transport, 8, ack);
        transport[12] = 5 << 4;   // data offset: 5 words
        transport[13] = 0x18;     // PSH, ACK
        put16(transport, 14, 65535);
    }
    transport += payload;
    const std::uint8_t protocol = udp ? protocol_udp : protocol_tcp;

    // Transport checksum over the pseudo-header (RFC 768, RFC 793, RFC 8200 §8.1).
    std::string pseudo = source + destination;
    std::string tail(family == AF_INET6 ? 8 : 4, '\0');
    if (family == AF_INET6) {
        put32(tail, 0, static_cast<std::uint32_t>(transport.size()));
        tail[7] = static_cast<char>(protocol);
    } else {
        tail[1] = static_cast<char>(protocol);
        put16(tail, 2, static_cast<unsigned>(transport.size()));
    }
    pseudo += tail;
    unsigned checksum = fold(sum16(transport, sum16(pseudo)));
    if (udp && checksum == 0)
        checksum = 0xffff;
    put16(transport, udp ? 6 : 16, checksum);

    std::string ip;
    if (family == AF_INET6) {
        ip.assign(8, '\0');
        ip[0] = 0x60;
        put16(ip, 4, static_cast<unsigned>(transport.size()));
        ip[6] = static_cast<char>(protocol);
        ip[7] = 64;
        ip += source + destination;
    } else {
        ip.assign(12, '\0');
        ip[0] = 0x45;
        put16(ip, 2, static_cast<unsigned>(20 + transport.size()));
        put16(ip, 6, 0x4000); // don't fragment
        ip[8] = 64;
        ip[9] = static_cast<char>(protocol);
        ip += source + destination;
        put16(ip, 10, fold(sum16(ip)));
    }
    return ip + transport;
}

} // namespace

std::vector<std::string> synthesize_packets(const TracedMessage& message, std::uint32_t sequence, std::uint32_t ack)
{
    std::vector<std::string> packets;
    if (message.transport == "udp") {
        packets.push_back(packet(message, message.data, 0, 0));
        return packets;
    }
    std::string_view data = message.data;
    do {
        const auto part = data.substr(0, max_segment);
        packets.push_back(packet(message, part, sequence, ack));
        sequence += static_cast<std::uint32_t>(part.size());
        data.remove_prefix(part.size());
    } while (!data.empty());
    return packets;
}

PcapWriter::PcapWriter(const std::string& path)
{
    pcap_ = pcap_open_dead_with_tstamp_precision(DLT_RAW, 262144, PCAP_TSTAMP_PRECISION_MICRO);
    if (!pcap_)
        throw Failure(Outcome::local, fmt::format("{}: cannot start a pcap trace", path));
    dumper_ = pcap_dump_open(pcap_, path.c_str());
    if (!dumper_) {
        // libpcap's message already names the file: "PATH: Permission denied".
        const std::string error = pcap_geterr(pcap_);
        pcap_close(pcap_);
        throw Failure(Outcome::local, fmt::format("--trace: cannot write the trace: {}", error));
    }
    pcap_dump_flush(dumper_);
}

PcapWriter::~PcapWriter()
{
    pcap_dump_close(dumper_);
    pcap_close(pcap_);
}

std::uint32_t& PcapWriter::next_sequence(const Flow& flow)
{
    // Start each direction somewhere distinct: readers show relative numbers anyway.
    auto [it, added] = sequences_.try_emplace(flow, 0);
    if (added)
        it->second = static_cast<std::uint32_t>(std::hash<std::string>{}(fmt::format("{}:{}>{}:{}", std::get<0>(flow),
                                                 std::get<1>(flow), std::get<2>(flow), std::get<3>(flow))));
    return it->second;
}

void PcapWriter::write(const TracedMessage& m)
{
    std::uint32_t sequence = 0, ack = 0;
    if (m.transport != "udp") {
        const Flow forward = m.sent ? Flow{m.local_ip, m.local_port, m.remote_ip, m.remote_port}
                                    : Flow{m.remote_ip, m.remote_port, m.local_ip, m.local_port};
        const Flow backward{std::get<2>(forward), std::get<3>(forward), std::get<0>(forward), std::get<1>(forward)};
        auto& next = next_sequence(forward);
        sequence = next;
        next += static_cast<std::uint32_t>(m.data.size());
        ack = next_sequence(backward);
    }
    for (const auto& bytes : synthesize_packets(m, sequence, ack)) {
        pcap_pkthdr header{};
        header.ts.tv_sec = static_cast<time_t>(m.time_us / 1000000);
        header.ts.tv_usec = static_cast<suseconds_t>(m.time_us % 1000000);
        header.caplen = header.len = static_cast<bpf_u_int32>(bytes.size());
        pcap_dump(reinterpret_cast<u_char*>(dumper_), &header, reinterpret_cast<const u_char*>(bytes.data()));
    }
    pcap_dump_flush(dumper_);
}

} // namespace imsp2p::sip
