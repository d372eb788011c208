#include "swarm/seeder.hpp"

#include "cli/outcome.hpp"
#include "swarm/swarm_session.hpp"

#include <fmt/format.h>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_status.hpp>

#include <chrono>

namespace imsp2p::swarm {

void seed_until(lt::session& session, const lt::torrent_handle& handle, std::int64_t content_size,
                const SeedOptions& options, cli::Output& out)
{
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    auto next_stats = start;
    auto next_dial = start;
    PeerLedger ledger;
    ledger.attach(handle);
    std::string reason;
    std::int64_t uploaded = 0;
    auto ratio_of = [&](std::int64_t bytes) {
        return content_size > 0 ? static_cast<double>(bytes) / static_cast<double>(content_size) : 0.0;
    };
    for (;;) {
        session.wait_for_alert(std::chrono::milliseconds(200));
        if (const auto error = drain_alerts(session); !error.empty())
            throw Failure(Outcome::local, fmt::format("seeding stopped: {}", error));
        const auto now = clock::now();
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const auto status = handle.status();
        uploaded = status.total_payload_upload;
        ledger.update(handle);
        if (now >= next_dial && ledger.connected() == 0) {
            for (const auto& peer : options.peers)
                handle.connect_peer(peer);
            next_dial = now + std::chrono::seconds(5);
        }
        if (stop_requested())
            reason = "signal";
        else if (options.seed_time > 0 && elapsed >= options.seed_time)
            reason = "seed_time";
        else if (options.ratio > 0 && ratio_of(uploaded) >= options.ratio)
            reason = "ratio";
        if (!reason.empty())
            break;
        if (out.json() && now >= next_stats) {
            out.event("seed_stats",
                      {{"uploaded_bytes", uploaded},
                       {"ratio", ratio_of(uploaded)},
                       {"upload_rate", status.upload_payload_rate},
                       {"peers_connected", ledger.connected()},
                       {"peers", ledger.to_json()},
                       {"seed_s", elapsed}},
                      "");
            next_stats = now + std::chrono::duration_cast<clock::duration>(
                                   std::chrono::duration<double>(options.stats_interval));
        }
    }
    ledger.update(handle);
    const double elapsed = std::chrono::duration<double>(clock::now() - start).count();
    out.event("seed_done",
              {{"reason", reason},
               {"uploaded_bytes", uploaded},
               {"ratio", ratio_of(uploaded)},
               {"peers", ledger.to_json()},
               {"seed_s", elapsed}},
              fmt::format("seeded {:.1f} s, uploaded {} bytes (ratio {:.2f}) to {} peer(s); stopped by {}", elapsed,
                          uploaded, ratio_of(uploaded), ledger.to_json().size(), reason));
}

} // namespace imsp2p::swarm
