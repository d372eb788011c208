// Keeps a torrent seeding until a stop signal, a time or a ratio, reporting
// total and per-peer upload (swarm-publish --seed, swarm-fetch --seed-after).
#pragma once

#include "cli/output.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include <libtorrent/fwd.hpp>
#include <libtorrent/socket.hpp>

namespace imsp2p::swarm {

struct SeedOptions {
    double seed_time = 0;      // seconds; 0: no limit
    double ratio = 0;          // uploaded bytes / content size; 0: no limit
    double stats_interval = 1; // seconds between seed_stats events (--json)
    std::vector<lt::tcp::endpoint> peers; // dialled at the start and while unconnected
};

// Prints "seed_stats" events (JSON only) while seeding and one "seed_done"
// event at the end, whose reason is "signal", "seed_time" or "ratio".
// Failure(local) when the torrent reports a disk error.
void seed_until(lt::session& session, const lt::torrent_handle& handle, std::int64_t content_size,
                const SeedOptions& options, cli::Output& out);

} // namespace imsp2p::swarm
