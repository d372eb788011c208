#include "swarm/fetcher.hpp"

#include "cli/outcome.hpp"
#include "dht/state_files.hpp"
#include "swarm/swarm_session.hpp"

#include <fmt/format.h>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/read_resume_data.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <libtorrent/write_resume_data.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>

namespace fs = std::filesystem;

namespace imsp2p::swarm {
namespace {

using clock = std::chrono::steady_clock;

// Resume data of an earlier run for the same torrent, if any and readable.
bool load_resume(const fs::path& file, lt::add_torrent_params& params)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        return false;
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    lt::error_code ec;
    auto resumed = lt::read_resume_data(bytes, ec);
    if (ec) {
        spdlog::warn("{}: ignoring unreadable resume data: {}", file.string(), ec.message());
        return false;
    }
    const auto mine = params.ti ? params.ti->info_hashes() : params.info_hashes;
    const auto& theirs = resumed.info_hashes;
    const bool same = (mine.has_v1() && theirs.has_v1() && mine.v1 == theirs.v1) ||
                      (mine.has_v2() && theirs.has_v2() && mine.v2 == theirs.v2);
    if (!same) {
        spdlog::warn("{}: resume data of another torrent: ignored", file.string());
        return false;
    }
    if (params.ti && !resumed.ti)
        resumed.ti = params.ti;
    resumed.trackers.insert(resumed.trackers.end(), params.trackers.begin(), params.trackers.end());
    resumed.save_path = params.save_path;
    params = std::move(resumed);
    return true;
}

std::string human_bytes(double bytes)
{
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int unit = 0;
    while (bytes >= 1024 && unit < 4) {
        bytes /= 1024;
        ++unit;
    }
    return fmt::format("{:.1f} {}", bytes, units[unit]);
}

void draw_progress(const lt::torrent_status& status, int peers)
{
    const int width = 30;
    const double progress = static_cast<double>(status.progress);
    const int filled = static_cast<int>(progress * width);
    std::fprintf(stderr, "\r[%s%s] %5.1f%% %s of %s, %s/s, %d peer(s) \x1b[K", std::string(static_cast<std::size_t>(filled), '#').c_str(),
                 std::string(static_cast<std::size_t>(width - filled), ' ').c_str(), progress * 100,
                 human_bytes(static_cast<double>(status.total_wanted_done)).c_str(),
                 human_bytes(static_cast<double>(status.total_wanted)).c_str(),
                 human_bytes(status.download_payload_rate).c_str(), peers);
    std::fflush(stderr);
}

// libtorrent reports pieces done once they pass their hash check, which can be
// before all their blocks reach the file: flush_cache() queues a fence behind
// the pending writes, and its alert says they are done, so the file is whole.
void wait_for_writes(lt::session& session, const lt::torrent_handle& handle)
{
    handle.flush_cache();
    const auto deadline = clock::now() + std::chrono::seconds(60);
    while (clock::now() < deadline) {
        session.wait_for_alert(std::chrono::milliseconds(100));
        std::vector<lt::alert*> alerts;
        if (const auto error = drain_alerts(session, &alerts); !error.empty())
            throw Failure(Outcome::local, fmt::format("download failed: {}", error));
        for (const auto* alert : alerts)
            if (lt::alert_cast<lt::cache_flushed_alert>(alert))
                return;
    }
    throw Failure(Outcome::local, "the downloaded data was not written to disk within 60 s");
}

} // namespace

Download download(lt::add_torrent_params params, const DownloadOptions& o, cli::Output& out)
{
    Download result;
    result.save_path = o.state_dir / "data";
    std::error_code ec;
    fs::create_directories(result.save_path, ec);
    if (ec)
        throw Failure(Outcome::local, fmt::format("{}: cannot create: {}", result.save_path.string(), ec.message()));
    const fs::path resume_file = o.state_dir / "resume.dat";
    params.save_path = result.save_path.string();
    result.resumed = load_resume(resume_file, params);
    params.flags &= ~lt::torrent_flags::auto_managed;
    params.flags &= ~lt::torrent_flags::paused;
    if (o.rate_limit > 0)
        params.download_limit = static_cast<int>(std::min<std::int64_t>(o.rate_limit, INT32_MAX));

    result.session = open_session(o.listen, "--listen");
    auto& session = *result.session;
    lt::error_code add_error;
    result.handle = session.add_torrent(std::move(params), add_error);
    if (add_error)
        throw Failure(Outcome::usage, fmt::format("cannot add the torrent: {}", add_error.message()));
    const auto& handle = result.handle;

    const auto start = clock::now();
    auto last_progress = start;
    auto next_stats = start;
    auto next_save = start + std::chrono::seconds(5);
    auto next_dial = start;
    std::int64_t last_done = -1;
    bool has_metadata = false;
    PeerLedger ledger;
    ledger.attach(handle);
    auto save_resume = [&](bool wait) {
        handle.save_resume_data(lt::torrent_handle::save_info_dict | lt::torrent_handle::flush_disk_cache);
        const auto deadline = clock::now() + std::chrono::seconds(wait ? 5 : 0);
        do {
            session.wait_for_alert(std::chrono::milliseconds(wait ? 100 : 0));
            std::vector<lt::alert*> alerts;
            drain_alerts(session, &alerts);
            for (auto* alert : alerts) {
                if (const auto* saved = lt::alert_cast<lt::save_resume_data_alert>(alert)) {
                    const auto bytes = lt::write_resume_data_buf(saved->params);
                    dht::write_file(resume_file, std::string(bytes.begin(), bytes.end()), 0644);
                    return;
                }
                if (lt::alert_cast<lt::save_resume_data_failed_alert>(alert))
                    return;
            }
        } while (clock::now() < deadline);
    };

    for (;;) {
        session.wait_for_alert(std::chrono::milliseconds(200));
        std::vector<lt::alert*> alerts;
        const std::string error = drain_alerts(session, &alerts);
        if (!error.empty())
            throw Failure(Outcome::local, fmt::format("download failed: {}", error));
        for (auto* alert : alerts)
            if (const auto* saved = lt::alert_cast<lt::save_resume_data_alert>(alert)) {
                const auto bytes = lt::write_resume_data_buf(saved->params);
                dht::write_file(resume_file, std::string(bytes.begin(), bytes.end()), 0644);
            }
        const auto status = handle.status();
        ledger.update(handle);
        const auto now = clock::now();
        if (status.has_metadata && !has_metadata) {
            has_metadata = true;
            last_progress = now; // metadata is progress too
        }
        if (now >= next_dial && ledger.connected() == 0) {
            for (const auto& peer : o.peers)
                handle.connect_peer(peer);
            next_dial = now + std::chrono::seconds(5);
        }
        if (status.total_wanted_done != last_done) {
            last_done = status.total_wanted_done;
            last_progress = now;
        }
        const bool complete = status.has_metadata && (status.is_finished || status.is_seeding) &&
                              status.state != lt::torrent_status::checking_files &&
                              status.state != lt::torrent_status::checking_resume_data;
        if (o.progress_bar)
            draw_progress(status, ledger.connected());
        if (out.json() && (now >= next_stats || complete)) {
            out.event("fetch_stats",
                      {{"state", complete ? "complete" : has_metadata ? "downloading" : "metadata"},
                       {"progress", status.progress},
                       {"done_bytes", status.total_wanted_done},
                       {"size", status.total_wanted},
                       {"download_rate", status.download_payload_rate},
                       {"upload_rate", status.upload_payload_rate},
                       {"downloaded_bytes", status.total_payload_download},
                       {"peers_connected", ledger.connected()},
                       {"peers", ledger.to_json()}},
                      "");
            next_stats = now + std::chrono::duration_cast<clock::duration>(std::chrono::duration<double>(o.stats_interval));
        }
        if (complete) {
            result.downloaded = status.total_payload_download;
            break;
        }
        if (stop_requested()) {
            if (o.progress_bar)
                std::fputs("\n", stderr);
            save_resume(true);
            throw Failure(Outcome::local,
                          fmt::format("interrupted with {} of {} bytes: run the same command to resume (state in {})",
                                      status.total_wanted_done, status.total_wanted, o.state_dir.string()));
        }
        if (std::chrono::duration<double>(now - last_progress).count() >= o.timeout) {
            if (o.progress_bar)
                std::fputs("\n", stderr);
            save_resume(true);
            throw Failure(Outcome::no_answer,
                          has_metadata ? fmt::format("no data from the swarm for {} s ({} of {} bytes, {} peer(s) connected)",
                                                     o.timeout, status.total_wanted_done, status.total_wanted,
                                                     ledger.connected())
                                       : fmt::format("no metadata from the swarm for {} s ({} peer(s) connected)",
                                                     o.timeout, ledger.connected()));
        }
        if (now >= next_save && has_metadata) {
            handle.save_resume_data(lt::torrent_handle::save_info_dict | lt::torrent_handle::only_if_modified);
            next_save = now + std::chrono::seconds(5);
        }
    }
    if (o.progress_bar)
        std::fputs("\n", stderr);
    wait_for_writes(session, handle);
    save_resume(true);
    result.info = handle.torrent_file();
    result.seconds = std::chrono::duration<double>(clock::now() - start).count();
    ledger.update(handle);
    result.peers = ledger.to_json();
    return result;
}

} // namespace imsp2p::swarm
