// Downloads one torrent with libtorrent into a state directory that keeps the
// data and libtorrent's resume data, so an interrupted fetch resumes.
#pragma once

#include "cli/output.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/fwd.hpp>
#include <libtorrent/socket.hpp>
#include <libtorrent/torrent_handle.hpp>

namespace imsp2p::swarm {

struct DownloadOptions {
    std::string listen;                   // ADDRESS:PORT
    std::vector<lt::tcp::endpoint> peers; // dialled besides the trackers'
    std::filesystem::path state_dir;      // data/ and resume.dat
    double timeout = 60;                  // seconds without progress before giving up
    double stats_interval = 1;            // seconds between fetch_stats events (--json)
    bool progress_bar = false;            // on stderr
    std::int64_t rate_limit = 0;          // download bytes/s, 0: none
};

struct Download {
    std::unique_ptr<lt::session> session;
    lt::torrent_handle handle;
    std::shared_ptr<const lt::torrent_info> info;
    std::filesystem::path save_path;
    bool resumed = false;           // resume data from an earlier run was used
    std::int64_t downloaded = 0;    // payload bytes received in this run
    double seconds = 0;
    nlohmann::json peers;           // per-peer byte counts (swarm_session.hpp)
};

// Adds `params` (from a torrent file or a magnet link) and downloads until complete.
// Failure(no_answer) when nothing arrives for `timeout` seconds, Failure(local) on a
// disk error or when interrupted by a signal (resume data saved first).
Download download(lt::add_torrent_params params, const DownloadOptions& options, cli::Output& out);

} // namespace imsp2p::swarm
