// --trace: the packets a pcap gets, and the readable log.
#include "sip/pcap_writer.hpp"
#include "sip/trace_writer.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace imsp2p::sip;

TEST_CASE("trace: synthesized IPv4/UDP and IPv6/TCP packets")
{
    TracedMessage m;
    m.sent = true;
    m.transport = "udp";
    m.local_ip = "127.0.0.2";
    m.local_port = 40000;
    m.remote_ip = "127.0.0.1";
    m.remote_port = 5060;
    m.data = "hello";
    auto packets = synthesize_packets(m, 0, 0);
    REQUIRE(packets.size() == 1);
    const auto& p = packets[0];
    REQUIRE(p.size() == 20 + 8 + 5);
    CHECK(static_cast<unsigned char>(p[0]) == 0x45);
    CHECK(p[9] == 17);
    CHECK(p.substr(12, 4) == std::string("\x7f\x00\x00\x02", 4)); // source: us, we sent it
    CHECK(p.substr(16, 4) == std::string("\x7f\x00\x00\x01", 4));
    CHECK((static_cast<unsigned char>(p[20]) << 8 | static_cast<unsigned char>(p[21])) == 40000);
    CHECK((static_cast<unsigned char>(p[22]) << 8 | static_cast<unsigned char>(p[23])) == 5060);
    // A correct IPv4 header sums to 0xffff.
    unsigned sum = 0;
    for (int i = 0; i < 20; i += 2)
        sum += static_cast<unsigned char>(p[i]) << 8 | static_cast<unsigned char>(p[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    CHECK(sum == 0xffff);
    CHECK(p.substr(28) == "hello");

    m.sent = false;
    m.transport = "tcp";
    m.local_ip = "::1";
    m.remote_ip = "::2";
    m.data = std::string(70000, 'x');
    packets = synthesize_packets(m, 100, 7);
    REQUIRE(packets.size() == 2);
    CHECK(static_cast<unsigned char>(packets[0][0]) >> 4 == 6);
    CHECK(packets[0][6] == 6);
    CHECK(packets[0].substr(8, 16) == std::string(15, '\0') + '\x02'); // source: the peer, we received it
    CHECK(packets[0].size() - 60 + packets[1].size() - 60 == 70000);
}

TEST_CASE("trace: the readable log names both ends")
{
    TracedMessage m;
    m.sent = false;
    m.transport = "udp";
    m.local_ip = "127.0.0.2";
    m.local_port = 5062;
    m.remote_ip = "::1";
    m.remote_port = 5060;
    m.time_us = 1764739130083412;
    m.data = "SIP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n";
    CHECK(format_trace_entry(m) == "2025-12-03T05:18:50.083412Z recv udp 127.0.0.2:5062 <- [::1]:5060 (37 bytes)\n"
                                   "  SIP/2.0 200 OK\n  Content-Length: 0\n  \n\n");
}
