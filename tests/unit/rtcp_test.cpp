#include "call/rtcp.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p::call;

TEST_CASE("an RTCP sender report with a report block and SDES survives a round trip")
{
    rtcp::SenderInfo sender{0x0123456789abcdefull, 1000, 50, 8000};
    rtcp::ReportBlock block;
    block.ssrc = 0xdeadbeef;
    block.fraction_lost = 12;
    block.cumulative_lost = -3; // duplicates make it negative: 24-bit two's complement
    block.highest_seq = 70000;
    block.jitter = 17;
    block.lsr = 0x12345678;
    block.dlsr = 65536;
    const auto packet = rtcp::build(0xcafebabe, sender, block, "ims-call@127.0.0.1", true);
    REQUIRE(packet.size() % 4 == 0);
    REQUIRE(rtcp::looks_like_rtcp(packet.data(), packet.size()));
    const auto report = rtcp::parse(packet.data(), packet.size());
    REQUIRE(report);
    CHECK(report->ssrc == 0xcafebabe);
    REQUIRE(report->sender);
    CHECK(report->sender->ntp == sender.ntp);
    CHECK(report->sender->packets == 50);
    REQUIRE(report->blocks.size() == 1);
    CHECK(report->blocks[0].ssrc == 0xdeadbeef);
    CHECK(report->blocks[0].fraction_lost == 12);
    CHECK(report->blocks[0].cumulative_lost == -3);
    CHECK(report->blocks[0].highest_seq == 70000);
    CHECK(report->blocks[0].lsr == 0x12345678);
    CHECK(report->bye);
}

TEST_CASE("a receiver report without blocks, and what is not RTCP")
{
    const auto packet = rtcp::build(7, std::nullopt, std::nullopt, "x", false);
    const auto report = rtcp::parse(packet.data(), packet.size());
    REQUIRE(report);
    CHECK_FALSE(report->sender);
    CHECK(report->blocks.empty());
    CHECK_FALSE(report->bye);
    auto truncated = packet;
    truncated.pop_back();
    CHECK_FALSE(rtcp::parse(truncated.data(), truncated.size()));
    const std::uint8_t rtp[12] = {0x80, 0, 0, 1};
    CHECK_FALSE(rtcp::looks_like_rtcp(rtp, sizeof rtp));
    CHECK_FALSE(rtcp::parse(rtp, sizeof rtp));
}

TEST_CASE("the RTCP round trip is arrival - LSR - DLSR, modulo 2^32")
{
    rtcp::ReportBlock block;
    CHECK_FALSE(rtcp::round_trip(block, 1000)); // no SR received yet: no LSR
    block.lsr = 0xffff0000;   // wraps before the arrival
    block.dlsr = 0x8000;      // 0.5 s held by the peer
    const auto rtt = rtcp::round_trip(block, 0x0000c000); // arrival 1.75 s after LSR
    REQUIRE(rtt);
    CHECK(*rtt == Approx(1.25));
    block.dlsr = 0x20000;     // longer than the gap: rounding, never negative
    CHECK(*rtcp::round_trip(block, 0x00008000) == 0.0);
}
