// overlay-probe swarm: how healthy a BitTorrent swarm is. Scrapes its
// trackers, joins briefly as a peer that requests no pieces (libtorrent's
// upload mode) and reads the peers' bitfields: seeds, peers, availability of
// every piece and the distributed copies. With --dht the source is a content
// id: its content record is read from the overlay (and reported) and its
// magnet probed.
#pragma once

#include "dht/content_client.hpp"
#include "probe/probe_result.hpp"

#include <string>
#include <vector>

namespace imsp2p::probe {

struct SwarmProbeOptions {
    std::string source;                // magnet, 40/64-hex info-hash, .torrent file; with overlay.dht a content id
    std::vector<std::string> trackers; // announce URLs added to the source's
    std::vector<std::string> peers;    // ADDRESS:PORT to connect to as well
    std::string listen = "0.0.0.0:0";
    double timeout = 10;               // seconds for the whole probe
    dht::ContentClientOptions overlay;
};

void check(const SwarmProbeOptions& options); // Failure(usage) before any I/O
ProbeResult probe_swarm(const SwarmProbeOptions& options);

} // namespace imsp2p::probe
