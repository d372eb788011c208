// What an overlay node keeps in its state directory between runs: its node id
// (a restart rejoins as the same node, so peers' routing tables stay right)
// and a cache of known nodes (a restart bootstraps even if the configured
// bootstrap nodes are gone).
#pragma once

#include <opendht/infohash.h>

#include <filesystem>
#include <optional>
#include <vector>

namespace imsp2p::dht {

// The id in `file` (40 hex digits). Failure(usage) naming the file when it is
// unreadable or not an id; nullopt when there is no such file.
std::optional<::dht::InfoHash> read_node_id(const std::filesystem::path& file);
void write_node_id(const std::filesystem::path& file, const ::dht::InfoHash& id); // Failure(local)

// The cache: a header line, then one "ID ADDRESS:PORT" line per IPv4 node.
// Failure(usage) "FILE:LINE: cause" when corrupt; empty when there is no file.
std::vector<::dht::NodeExport> read_node_cache(const std::filesystem::path& file);
void write_node_cache(const std::filesystem::path& file, const std::vector<::dht::NodeExport>& nodes);

} // namespace imsp2p::dht
