#include "swarm/torrent_maker.hpp"

#include "cli/outcome.hpp"
#include "swarm/file_source.hpp"
#include "util/hex.hpp"

#include <fmt/format.h>
#include <libtorrent/bencode.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/torrent_info.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace imsp2p::swarm {
namespace {

template <typename Hash>
std::string hash_hex(const Hash& hash)
{
    return to_hex(reinterpret_cast<const std::uint8_t*>(hash.data()), static_cast<std::size_t>(hash.size()));
}

} // namespace

void check_piece_size(std::int64_t bytes)
{
    if (bytes != 0 && (bytes < 16 * 1024 || bytes > (std::int64_t{1} << 29) || (bytes & (bytes - 1)) != 0))
        throw Failure(Outcome::usage,
                      fmt::format("--piece-size must be a power of two from 16 KiB to 512 MiB, not {}", bytes));
}

std::vector<char> make_torrent(const TorrentSpec& spec)
{
    check_piece_size(spec.piece_size);
    if (spec.v1_only && spec.v2_only)
        throw Failure(Outcome::usage, "--v1-only and --v2-only exclude each other");
    lt::file_storage files;
    lt::add_files(files, spec.content.string(), lt::create_flags_t{});
    if (files.num_files() == 0)
        throw Failure(Outcome::usage, fmt::format("{}: no files to publish", spec.content.string()));
    lt::create_flags_t flags{};
    if (spec.v1_only)
        flags |= lt::create_torrent::v1_only;
    if (spec.v2_only)
        flags |= lt::create_torrent::v2_only;
    lt::create_torrent torrent(files, spec.piece_size, flags);
    int tier = 0;
    for (const auto& url : spec.trackers)
        torrent.add_tracker(url, tier++);
    for (const auto& url : spec.web_seeds)
        torrent.add_url_seed(url);
    torrent.set_priv(spec.private_flag);
    if (!spec.comment.empty())
        torrent.set_comment(spec.comment.c_str());
    if (!spec.creator.empty())
        torrent.set_creator(spec.creator.c_str());

    const int threads = spec.hashing_threads > 0 ? spec.hashing_threads
                                                 : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const std::string save_path = spec.content.parent_path().string();
    const auto source = spec.source ? spec.source(torrent.files(), save_path) : file_source(torrent.files(), save_path);
    hash_pieces(torrent, *source, threads);
    std::vector<char> out;
    lt::bencode(std::back_inserter(out), torrent.generate());
    return out;
}

std::shared_ptr<lt::torrent_info> parse_torrent(const std::vector<char>& bytes, const std::string& source)
{
    lt::error_code ec;
    auto info = std::make_shared<lt::torrent_info>(lt::span<const char>(bytes.data(), static_cast<std::ptrdiff_t>(bytes.size())),
                                                   ec, lt::from_span);
    if (ec)
        throw Failure(Outcome::usage, fmt::format("{}: not a valid torrent: {}", source, ec.message()));
    return info;
}

std::shared_ptr<lt::torrent_info> load_torrent_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    std::vector<char> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return parse_torrent(bytes, file.string());
}

TorrentFacts describe(const lt::torrent_info& info)
{
    TorrentFacts facts;
    facts.name = info.name();
    const auto& hashes = info.info_hashes();
    if (hashes.has_v1())
        facts.info_hash_v1 = hash_hex(hashes.v1);
    if (hashes.has_v2())
        facts.info_hash_v2 = hash_hex(hashes.v2);
    facts.magnet = lt::make_magnet_uri(info);
    facts.piece_size = info.piece_length();
    facts.pieces = info.num_pieces();
    const auto& storage = info.files();
    for (const auto file : storage.file_range()) {
        if (storage.pad_file_at(file))
            continue;
        ++facts.files;
        facts.size += storage.file_size(file);
    }
    return facts;
}

} // namespace imsp2p::swarm
