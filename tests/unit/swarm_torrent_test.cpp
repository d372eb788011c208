// The one-pass torrent hasher (piece_hasher.hpp) against libtorrent's own
// set_piece_hashes(), over the files as they are and while encrypting them.
#include "cli/outcome.hpp"
#include "swarm/content_cipher.hpp"
#include "swarm/encrypting_source.hpp"
#include "swarm/torrent_maker.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>
#include <libtorrent/create_torrent.hpp>
#include <libtorrent/torrent_info.hpp>

#include <fstream>
#include <iterator>
#include <random>

using namespace imsp2p;
using namespace imsp2p::swarm;
namespace fs = std::filesystem;

namespace {

std::string random_text(std::size_t size, unsigned seed)
{
    std::mt19937_64 generator(seed);
    std::string out(size, '\0');
    for (std::size_t i = 0; i < size; i += 8) {
        const std::uint64_t word = generator();
        std::memcpy(out.data() + i, &word, std::min<std::size_t>(8, size - i));
    }
    return out;
}

void write(const fs::path& file, const std::string& data)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << data;
}

std::string read(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The info hashes libtorrent's own hashing gives the files of `spec`.
lt::info_hash_t libtorrent_hashes(const TorrentSpec& spec)
{
    lt::file_storage files;
    lt::add_files(files, spec.content.string(), lt::create_flags_t{});
    lt::create_flags_t flags{};
    if (spec.v1_only)
        flags |= lt::create_torrent::v1_only;
    if (spec.v2_only)
        flags |= lt::create_torrent::v2_only;
    lt::create_torrent torrent(files, spec.piece_size, flags);
    lt::error_code ec;
    lt::set_piece_hashes(torrent, spec.content.parent_path().string(), ec);
    REQUIRE_FALSE(ec);
    const auto bytes = torrent.generate_buf();
    return parse_torrent(bytes, "reference")->info_hashes();
}

lt::info_hash_t our_hashes(const TorrentSpec& spec) { return parse_torrent(make_torrent(spec), "ours")->info_hashes(); }

struct Layout {
    const char* what;
    bool v1_only;
    bool v2_only;
};
constexpr Layout layouts[] = {{"hybrid", false, false}, {"v1 only", true, false}, {"v2 only", false, true}};

void check_same_hashes(TorrentSpec spec, const Layout& layout)
{
    spec.v1_only = layout.v1_only;
    spec.v2_only = layout.v2_only;
    const auto ours = our_hashes(spec);
    spec.source = nullptr;
    const auto reference = libtorrent_hashes(spec);
    CHECK(ours.v1 == reference.v1);
    CHECK(ours.v2 == reference.v2);
    CHECK(ours.has_v1() == !layout.v2_only);
    CHECK(ours.has_v2() == !layout.v1_only);
}

} // namespace

TEST_CASE("swarm torrents: one-pass piece hashes are libtorrent's, for every layout")
{
    test::TempDir dir;
    // Sizes around the 16 KiB blocks and the 32 KiB pieces: smaller than a
    // block, than a piece, exactly a piece, several pieces and a bit.
    const std::vector<std::pair<std::string, std::size_t>> files{
        {"tree/a", 5},     {"tree/b/c", 20000}, {"tree/b/d", 32768},          {"tree/e", 3 * 32768 + 17},
        {"tree/f", 16383}, {"tree/g", 0},       {"single", 5 * 32768 + 100}};
    unsigned seed = 1;
    for (const auto& [name, size] : files)
        write(dir.path() / name, random_text(size, seed++));
    for (const auto& layout : layouts)
        for (const char* content : {"tree", "single"})
            for (const int threads : {1, 3}) {
                INFO(layout.what << ", " << content << ", " << threads << " thread(s)");
                TorrentSpec spec;
                spec.content = dir.path() / content;
                spec.piece_size = 32768;
                spec.hashing_threads = threads;
                check_same_hashes(spec, layout);
            }
}

TEST_CASE("swarm torrents: content of many chunks, small and big pieces")
{
    // 4 MiB chunks, a ring of 12: this file goes round it; 8 MiB pieces make
    // chunks of one piece.
    test::TempDir dir;
    write(dir.path() / "big", random_text(50 * 1024 * 1024 + 12345, 9));
    for (const auto& layout : layouts)
        for (const int piece_size : {64 * 1024, 8 * 1024 * 1024}) {
            INFO(layout.what << ", pieces of " << piece_size);
            TorrentSpec spec;
            spec.content = dir.path() / "big";
            spec.piece_size = piece_size;
            spec.hashing_threads = 2;
            check_same_hashes(spec, layout);
        }
}

TEST_CASE("swarm torrents: encrypting while hashing writes the ciphertext the torrent describes")
{
    test::TempDir dir;
    const std::vector<std::pair<std::string, std::size_t>> files{
        {"a", 1}, {"b/c", 40000}, {"d", 2 * 65536 + 3}, {"e", 5 * 1024 * 1024 + 7}};
    const Kid kid = random_kid();
    const Key key = random_key();
    for (const auto& layout : layouts) {
        INFO(layout.what);
        const fs::path out = dir.path() / layout.what;
        std::vector<EncryptionPlan> plans;
        unsigned seed = 7;
        for (const auto& [name, size] : files) {
            write(dir.path() / "plain" / name, random_text(size, seed++));
            fs::create_directories((out / "content" / name).parent_path());
            plans.push_back(plan_encryption(dir.path() / "plain" / name, out / "content" / (name + ".enc"), kid, key));
        }
        TorrentSpec spec;
        spec.content = out / "content";
        spec.piece_size = 16384;
        spec.hashing_threads = 3;
        spec.source = [&plans](const lt::file_storage& storage, std::string save_path) {
            return encrypting_source(storage, std::move(save_path), plans);
        };
        check_same_hashes(spec, layout);
        for (const auto& plan : plans) {
            CHECK(fs::file_size(plan.out) == plan.size());
            decrypt_file(plan.out, out / "decrypted", key);
            CHECK(read(out / "decrypted") == read(plan.in));
            fs::remove(out / "decrypted");
        }
    }
}

TEST_CASE("swarm torrents: a plaintext larger than one mapped window is encrypted whole")
{
    // The plaintext is mapped 64 MiB at a time (file_reader.cpp); odd sizes
    // put piece and window edges inside AES blocks.
    test::TempDir dir;
    write(dir.path() / "plain" / "big", random_text((std::size_t{64} << 20) + 65536 + 3, 11));
    const Key key = random_key();
    fs::create_directories(dir.path() / "content");
    std::vector<EncryptionPlan> plans{
        plan_encryption(dir.path() / "plain" / "big", dir.path() / "content" / "big.enc", random_kid(), key)};
    TorrentSpec spec;
    spec.content = dir.path() / "content";
    spec.piece_size = 32768;
    spec.hashing_threads = 2;
    spec.source = [&plans](const lt::file_storage& storage, std::string save_path) {
        return encrypting_source(storage, std::move(save_path), plans);
    };
    check_same_hashes(spec, layouts[1]);
    decrypt_file(plans.front().out, dir.path() / "decrypted", key);
    CHECK(read(dir.path() / "decrypted") == read(plans.front().in));
}

TEST_CASE("swarm torrents: a plaintext that shrinks while encrypted is an error")
{
    test::TempDir dir;
    write(dir.path() / "plain", random_text(100000, 3));
    fs::create_directories(dir.path() / "content");
    std::vector<EncryptionPlan> plans{
        plan_encryption(dir.path() / "plain", dir.path() / "content" / "plain.enc", random_kid(), random_key())};
    fs::resize_file(dir.path() / "plain", 50000);
    TorrentSpec spec;
    spec.content = dir.path() / "content";
    spec.piece_size = 16384;
    spec.source = [&plans](const lt::file_storage& storage, std::string save_path) {
        return encrypting_source(storage, std::move(save_path), plans);
    };
    bool failed = false;
    try {
        make_torrent(spec);
    } catch (const Failure& failure) {
        failed = true;
        CHECK(failure.outcome() == Outcome::usage);
        CHECK_THAT(failure.what(), Catch::Contains("changed while being read"));
    }
    CHECK(failed);
    CHECK_THROWS_AS(check_unchanged(plans), Failure);
}
