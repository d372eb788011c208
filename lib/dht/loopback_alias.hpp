// Keeps OpenDHT's node lists right on a loopback testbed.
//
// OpenDHT (2.4, network_engine.cpp) reads every loopback address in a node
// list it receives as "the sender's address, this port": fine when all nodes
// share 127.0.0.1, wrong on a testbed where each host has its own 127.0.x.y
// and the same port. Every node learned second-hand then points at the node
// that reported it, so lookups ask the wrong node, time out, and crawls list
// one address for everyone.
//
// The socket layer hides loopback addresses inside node lists from OpenDHT:
// received lists carry 127.0.b.c as 198.18.b.c and 127.1.b.c as 198.19.b.c
// (RFC 2544's benchmarking range, which no deployment routes), sent lists
// and destinations are mapped back. On the wire everything stays loopback,
// so a stock dhtnode on the same testbed reads the same lists as before.
// Only sockets bound to a loopback address, or to any address (a probe), do this.
#pragma once

#include <opendht/sockaddr.h>

#include <cstdint>
#include <optional>
#include <span>

namespace imsp2p::dht {

// 127.0.b.c ↔ 198.18.b.c and 127.1.b.c ↔ 198.19.b.c, in host byte order;
// nullopt for every other address.
std::optional<std::uint32_t> loopback_alias(std::uint32_t loopback);
std::optional<std::uint32_t> aliased_loopback(std::uint32_t alias);

// The loopback address an alias stands for (other addresses unchanged).
::dht::SockAddr unalias(const ::dht::SockAddr& address);

// Whether a message may hold a node list (a cheap byte search).
bool has_node_list(std::span<const std::uint8_t> message);

// Rewrites, in place, the IPv4 addresses of the node lists ("n4") of a
// received or a sent OpenDHT message. Returns whether any address changed.
// Malformed messages are left alone (OpenDHT refuses them itself).
bool alias_node_lists(std::span<std::uint8_t> message);   // received: loopback → alias
bool unalias_node_lists(std::span<std::uint8_t> message); // to send: alias → loopback

} // namespace imsp2p::dht
