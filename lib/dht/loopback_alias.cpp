#include "dht/loopback_alias.hpp"

#include <msgpack.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <string_view>

namespace imsp2p::dht {
namespace {

constexpr std::uint32_t loopback_net = 0x7f000000;  // 127.0.0.0/15 (127.0 and 127.1)
constexpr std::uint32_t alias_net = 0xc6120000;     // 198.18.0.0/15
constexpr std::uint32_t net_mask = 0xfffe0000;
constexpr std::size_t node4_size = 20 + 4 + 2;     // node id, IPv4, port
constexpr std::string_view node_list_key = "n4";

const msgpack::object* member(const msgpack::object& map, std::string_view key)
{
    if (map.type != msgpack::type::MAP)
        return nullptr;
    for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
        const auto& entry = map.via.map.ptr[i];
        if (entry.key.type == msgpack::type::STR && std::string_view(entry.key.via.str.ptr, entry.key.via.str.size) == key)
            return &entry.val;
    }
    return nullptr;
}

template <typename Map>
bool rewrite_node_lists(std::span<std::uint8_t> message, Map map_address)
{
    if (!has_node_list(message))
        return false;
    const char* data = reinterpret_cast<const char*>(message.data());
    msgpack::object_handle handle;
    try {
        // Referenced, not copied: the BIN objects point into `data`, where they are patched.
        handle = msgpack::unpack(data, message.size(), [](msgpack::type::object_type, std::size_t, void*) { return true; });
    } catch (const std::exception&) {
        return false;
    }
    bool changed = false;
    for (const char* part : {"r", "u", "a"}) {
        const auto* body = member(handle.get(), part);
        const auto* nodes = body ? member(*body, node_list_key) : nullptr;
        if (!nodes || nodes->type != msgpack::type::BIN || nodes->via.bin.size % node4_size != 0)
            continue;
        const auto offset = nodes->via.bin.ptr - data;
        if (offset < 0 || static_cast<std::size_t>(offset) + nodes->via.bin.size > message.size())
            continue; // copied, not referenced: nothing to patch in place
        for (std::size_t at = static_cast<std::size_t>(offset) + 20; at < static_cast<std::size_t>(offset) + nodes->via.bin.size;
             at += node4_size) {
            std::uint32_t address;
            std::memcpy(&address, message.data() + at, sizeof address);
            if (const auto mapped = map_address(ntohl(address))) {
                address = htonl(*mapped);
                std::memcpy(message.data() + at, &address, sizeof address);
                changed = true;
            }
        }
    }
    return changed;
}

} // namespace

bool has_node_list(std::span<const std::uint8_t> message)
{
    // Most messages (puts, their answers) carry none: they are not parsed.
    static constexpr std::uint8_t key[] = {0xa2, 'n', '4'}; // msgpack fixstr "n4"
    return std::search(message.begin(), message.end(), std::begin(key), std::end(key)) != message.end();
}

std::optional<std::uint32_t> loopback_alias(std::uint32_t loopback)
{
    if ((loopback & net_mask) != loopback_net)
        return std::nullopt;
    return alias_net | (loopback & ~net_mask);
}

std::optional<std::uint32_t> aliased_loopback(std::uint32_t alias)
{
    if ((alias & net_mask) != alias_net)
        return std::nullopt;
    return loopback_net | (alias & ~net_mask);
}

::dht::SockAddr unalias(const ::dht::SockAddr& address)
{
    if (address.getFamily() != AF_INET)
        return address;
    auto copy = address;
    auto& ipv4 = copy.getIPv4();
    if (const auto loopback = aliased_loopback(ntohl(ipv4.sin_addr.s_addr)))
        ipv4.sin_addr.s_addr = htonl(*loopback);
    return copy;
}

bool alias_node_lists(std::span<std::uint8_t> message)
{
    return rewrite_node_lists(message, loopback_alias);
}

bool unalias_node_lists(std::span<std::uint8_t> message)
{
    return rewrite_node_lists(message, aliased_loopback);
}

} // namespace imsp2p::dht
