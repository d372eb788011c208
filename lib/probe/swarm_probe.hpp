// overlay-probe swarm: how healthy a BitTorrent swarm is. Scrapes its
// trackers, joins briefly as a peer that requests no pieces (libtorrent's
// upload mode) and reads the peers' bitfields: seeds, peers, availability of
// every piece and the distributed copies. Content ids need content records
// in the overlay, which do not exist yet: only magnets, info-hashes and
// .torrent files are taken.
#pragma once

#include "probe/probe_result.hpp"

#include <string>
#include <vector>

namespace imsp2p::probe {

struct SwarmProbeOptions {
    std::string source;                // magnet, 40/64-hex info-hash, or .torrent file
    std::vector<std::string> trackers; // announce URLs added to the source's
    std::vector<std::string> peers;    // ADDRESS:PORT to connect to as well
    std::string listen = "0.0.0.0:0";
    double timeout = 10;               // seconds for the whole probe
};

void check(const SwarmProbeOptions& options); // Failure(usage) before any I/O
ProbeResult probe_swarm(const SwarmProbeOptions& options);

} // namespace imsp2p::probe
