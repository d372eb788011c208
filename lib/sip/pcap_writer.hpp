// Writes traced SIP messages as a pcap file (libpcap, link type raw IP) with
// IPv4/IPv6 and UDP/TCP headers synthesized from the real addresses and
// ports, so that tshark and Wireshark decode them as SIP. TCP segments carry
// consistent sequence numbers per direction, so a message split over reads
// is reassembled by the reader.
#pragma once

#include "sip/trace_message.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

struct pcap;
struct pcap_dumper;

namespace imsp2p::sip {

// The IP packet(s) carrying one message, without link-layer header: one
// datagram for UDP, TCP segments of at most 64 KiB otherwise. `sequence` is
// the TCP sequence number of the first byte, `ack` the peer's next one.
std::vector<std::string> synthesize_packets(const TracedMessage& message, std::uint32_t sequence, std::uint32_t ack);

class PcapWriter {
public:
    explicit PcapWriter(const std::string& path); // Failure(local) naming the path when it cannot be written
    ~PcapWriter();
    PcapWriter(const PcapWriter&) = delete;
    PcapWriter& operator=(const PcapWriter&) = delete;

    void write(const TracedMessage& message); // flushed per message: a trace survives a kill

private:
    using Flow = std::tuple<std::string, unsigned, std::string, unsigned>; // from, port, to, port
    std::uint32_t& next_sequence(const Flow& flow);

    pcap* pcap_ = nullptr;
    pcap_dumper* dumper_ = nullptr;
    std::map<Flow, std::uint32_t> sequences_;
};

} // namespace imsp2p::sip
