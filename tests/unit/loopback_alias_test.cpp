#include "dht/loopback_alias.hpp"

#include <catch2/catch.hpp>
#include <msgpack.hpp>

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

using namespace imsp2p::dht;

namespace {

// A node-list entry as OpenDHT packs it: 20-byte id, IPv4, port.
std::string node4(std::uint8_t id, const char* ip, std::uint16_t port)
{
    std::string entry(20, static_cast<char>(id));
    in_addr address{};
    inet_pton(AF_INET, ip, &address);
    entry.append(reinterpret_cast<const char*>(&address), 4);
    const std::uint16_t wire_port = htons(port);
    entry.append(reinterpret_cast<const char*>(&wire_port), 2);
    return entry;
}

// A 'find' answer: {"r": {"id": ..., "n4": ...}, "t": ..., "y": "r"}.
std::vector<std::uint8_t> find_answer(const std::string& nodes)
{
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> pk(&buffer);
    pk.pack_map(3);
    pk.pack(std::string("r"));
    pk.pack_map(2);
    pk.pack(std::string("id"));
    pk.pack_bin(20);
    pk.pack_bin_body(std::string(20, 'x').data(), 20);
    pk.pack(std::string("n4"));
    pk.pack_bin(static_cast<std::uint32_t>(nodes.size()));
    pk.pack_bin_body(nodes.data(), static_cast<std::uint32_t>(nodes.size()));
    pk.pack(std::string("t"));
    pk.pack(1234);
    pk.pack(std::string("y"));
    pk.pack(std::string("r"));
    return {buffer.data(), buffer.data() + buffer.size()};
}

::dht::SockAddr ipv4(const char* ip, std::uint16_t port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    inet_pton(AF_INET, ip, &address.sin_addr);
    return {reinterpret_cast<const sockaddr*>(&address), sizeof address};
}

} // namespace

TEST_CASE("loopback aliases map 127.0/15 onto 198.18/15 and back", "[dht]")
{
    CHECK(loopback_alias(0x7f000506) == 0xc6120506u);  // 127.0.5.6 → 198.18.5.6
    CHECK(loopback_alias(0x7f01ff01) == 0xc613ff01u);  // 127.1.255.1 → 198.19.255.1
    CHECK_FALSE(loopback_alias(0x7f020001));           // 127.2.0.1: out of the range
    CHECK_FALSE(loopback_alias(0x0a000001));           // 10.0.0.1
    CHECK(aliased_loopback(0xc6120506) == 0x7f000506u);
    CHECK_FALSE(aliased_loopback(0xc6140001));         // 198.20.0.1 is no alias
    CHECK(unalias(ipv4("198.18.7.8", 4222)).toString() == "127.0.7.8:4222");
    CHECK(unalias(ipv4("192.0.2.1", 4222)).toString() == "192.0.2.1:4222");
}

TEST_CASE("node lists of OpenDHT messages carry aliases inside and loopback on the wire", "[dht]")
{
    const auto wire = find_answer(node4(1, "127.0.100.11", 4222) + node4(2, "192.0.2.7", 4222) + node4(3, "127.1.0.9", 4000));
    auto message = wire;
    REQUIRE(has_node_list(message));
    CHECK(alias_node_lists(message));
    const auto aliased = find_answer(node4(1, "198.18.100.11", 4222) + node4(2, "192.0.2.7", 4222) + node4(3, "198.19.0.9", 4000));
    CHECK(message == aliased);
    CHECK(unalias_node_lists(message));
    CHECK(message == wire);

    SECTION("a list without loopback nodes is left alone")
    {
        auto other = find_answer(node4(4, "192.0.2.8", 4222));
        const auto before = other;
        CHECK_FALSE(alias_node_lists(other));
        CHECK(other == before);
    }
    SECTION("a truncated or malformed message is left alone")
    {
        auto truncated = std::vector<std::uint8_t>(wire.begin(), wire.end() - 10);
        const auto before = truncated;
        CHECK_FALSE(alias_node_lists(truncated));
        CHECK(truncated == before);
        std::vector<std::uint8_t> garbage{0xa2, 'n', '4', 0xc4, 0xff, 0x00};
        CHECK_FALSE(alias_node_lists(garbage));
    }
    SECTION("a message without a node list is not parsed")
    {
        const std::vector<std::uint8_t> put{0x81, 0xa1, 'y', 0xa1, 'q'};
        CHECK_FALSE(has_node_list(put));
    }
}
