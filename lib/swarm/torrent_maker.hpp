// Torrents of published content with libtorrent: hybrid v1+v2 by default
// (BEP 52), v1-only or v2-only on request; and reading torrents back.
#pragma once

#include "swarm/piece_hasher.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <libtorrent/fwd.hpp>

namespace imsp2p::swarm {

// The bytes to hash for the files the torrent lists (under the save path).
using SourceFactory = std::function<std::unique_ptr<StreamSource>(const lt::file_storage& files, std::string save_path)>;

struct TorrentSpec {
    std::filesystem::path content;  // the file or directory the torrent describes
    int piece_size = 0;             // bytes, a power of two >= 16 KiB; 0: libtorrent's choice
    bool v1_only = false;
    bool v2_only = false;
    bool private_flag = false;
    std::vector<std::string> trackers; // one tier each, in order
    std::vector<std::string> web_seeds;
    std::string comment;
    std::string creator;
    int hashing_threads = 0; // 0: one per core
    SourceFactory source;    // empty: the files as they are on disk
};

// What a torrent says about itself, for output.
struct TorrentFacts {
    std::string name;
    std::string info_hash_v1; // hex, empty when the torrent has none
    std::string info_hash_v2; // hex (64 digits), empty when none
    std::string magnet;
    int piece_size = 0;
    int pieces = 0;
    int files = 0;            // real files, pad files not counted
    std::int64_t size = 0;    // payload bytes, pad files not counted
};

// Failure(usage) "--piece-size must be ..." unless 0 or a power of two >= 16 KiB.
void check_piece_size(std::int64_t bytes);

// Hashes the content (as spec.source gives it) and returns the .torrent bytes.
// Failure(usage) for bad input (e.g. no files), Failure(local) for read errors
// while hashing, or the source's failures.
std::vector<char> make_torrent(const TorrentSpec& spec);

// Failure(usage) "SOURCE: not a valid torrent: REASON".
std::shared_ptr<lt::torrent_info> parse_torrent(const std::vector<char>& bytes, const std::string& source);
std::shared_ptr<lt::torrent_info> load_torrent_file(const std::filesystem::path& file);

TorrentFacts describe(const lt::torrent_info& info);

} // namespace imsp2p::swarm
