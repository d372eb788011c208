// A libtorrent session for one testbed host: bound to one address (listen and
// outgoing), no DHT, LSD, UPnP or NAT-PMP, several peers per IP allowed (every
// host of a loopback testbed shares 127/8), and the SIGINT/SIGTERM flag the
// seeding and fetching loops stop on.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <memory>
#include <string>
#include <vector>

#include <libtorrent/fwd.hpp>
#include <libtorrent/socket.hpp>

namespace imsp2p::swarm {

// How a session shares with its peers.
struct SessionTuning {
    // Peers uploaded to at once (unchoke slots), peers on the local network
    // included, chosen anti-leech when seeding; 0: libtorrent's defaults (8
    // slots, local peers always unchoked).
    int upload_slots = 0;
};

// Opens a session listening on ADDRESS:PORT (`what` names the option in errors) and
// waits until it listens: Failure(usage) for a malformed address, Failure(local)
// "cannot listen on ADDRESS:PORT: REASON".
std::unique_ptr<lt::session> open_session(const std::string& listen, const std::string& what,
                                          const SessionTuning& tuning = {});

// The port the session listens on (useful with port 0).
int listening_port(lt::session& session);

// HOST:PORT of a peer to connect to; Failure(usage) naming `what`.
lt::tcp::endpoint parse_peer(const std::string& text, const std::string& what);

// SIGINT and SIGTERM set a flag instead of ending the process.
void catch_stop_signals();
bool stop_requested();

// Per-peer byte counts that outlive the connections (libtorrent's are per
// connection and vanish with it: a plugin records each one as it closes).
struct PeerLedgerClosed;
class PeerLedger {
public:
    PeerLedger();
    // Records the connections of `handle` that close from now on.
    void attach(const lt::torrent_handle& handle);
    void update(const lt::torrent_handle& handle);
    // [{"address","client","uploaded_bytes","downloaded_bytes","connected"}], by address.
    nlohmann::json to_json() const;
    int connected() const { return connected_; }

private:
    struct Entry {
        std::string address;
        std::string client;
        std::int64_t uploaded_before = 0; // by earlier connections
        std::int64_t downloaded_before = 0;
        std::int64_t uploaded_now = 0;    // by the current connection
        std::int64_t downloaded_now = 0;
        bool connected = false;
    };
    std::shared_ptr<struct PeerLedgerClosed> closed_;
    std::map<std::string, Entry> peers_;
    int connected_ = 0;
};

// Logs (at the level fitting each) and drops the alerts waiting in the session;
// returns the first error alert's message for the caller to act on, if any.
std::string drain_alerts(lt::session& session, std::vector<lt::alert*>* keep = nullptr);

} // namespace imsp2p::swarm
