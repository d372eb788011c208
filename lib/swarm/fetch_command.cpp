#include "swarm/fetch_command.hpp"

#include "swarm/clearkey_license.hpp"
#include "swarm/content_cipher.hpp"
#include "swarm/fetcher.hpp"
#include "swarm/seeder.hpp"
#include "swarm/swarm_session.hpp"
#include "swarm/torrent_maker.hpp"
#include "util/hex.hpp"

#include <fmt/format.h>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_info.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <unistd.h>

namespace fs = std::filesystem;

namespace imsp2p::swarm {
namespace {

using clock = std::chrono::steady_clock;

std::string kid_hex(const Kid& kid) { return to_hex(kid.data(), kid.size()); }

// Whether the file starts with the content magic (a local encrypted file).
bool is_content_file(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    std::array<std::uint8_t, 8> head{};
    in.read(reinterpret_cast<char*>(head.data()), head.size());
    return has_content_magic(std::span(head.data(), static_cast<std::size_t>(in.gcount())));
}

std::optional<ContentHeader> header_of(const fs::path& file)
{
    return is_content_file(file) ? std::optional(read_content_header(file)) : std::nullopt;
}

Key key_for(const std::vector<LicenseKey>& licence, const std::string& licence_file, const ContentHeader& header,
            const std::string& what)
{
    const auto key = find_key(licence, header.kid);
    if (!key)
        throw Failure(Outcome::auth, fmt::format("{}: no key for KID {}, which {} needs", licence_file,
                                                 kid_hex(header.kid), what));
    return *key;
}

// Copies through a temporary file and a rename: `to` is complete or untouched.
void copy_atomic(const fs::path& from, const fs::path& to)
{
    fs::path temp = to;
    temp += ".part";
    std::error_code ec;
    fs::copy_file(from, temp, fs::copy_options::overwrite_existing, ec);
    if (!ec)
        fs::rename(temp, to, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(temp, ignored);
        throw Failure(Outcome::local, fmt::format("{}: cannot write: {}{}", to.string(), ec.message(),
                                                  ec == std::errc::no_space_on_device ? " (partial output removed)" : ""));
    }
}

Outcome decrypt_local(const FetchOptions& o, const std::vector<LicenseKey>& licence, cli::Output& out)
{
    const auto header = read_content_header(o.source);
    if (o.license.empty())
        throw Failure(Outcome::usage, fmt::format("{} is encrypted with KID {}: give --license FILE to decrypt it",
                                                  o.source, kid_hex(header.kid)));
    const Key key = key_for(licence, o.license, header, o.source);
    decrypt_file(o.source, o.output, key);
    out.event("decrypted",
              {{"input", o.source}, {"output", o.output}, {"kid", kid_hex(header.kid)}, {"size", header.plaintext_size}},
              fmt::format("decrypted {} into {} ({} bytes, KID {})", o.source, o.output, header.plaintext_size,
                          kid_hex(header.kid)));
    return Outcome::ok;
}

// The magnet of the content id's newest valid record in the overlay.
std::string resolve_content(const FetchOptions& o, cli::Output& out)
{
    dht::check_content_id(o.source, "CONTENT-ID");
    auto overlay = o.overlay;
    overlay.bind = dht::client_bind_for(o.listen);
    overlay.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(std::min(o.timeout, 30.0) * 1000));
    const auto record = dht::ContentClient(overlay).resolve(o.source);
    const auto& info = record.info;
    std::string text = fmt::format("content {}: {} ({} bytes) published by {}, record expires in {} s", info.content_id,
                                   info.name, info.size, info.publisher, record.expires - std::time(nullptr));
    if (!info.kid.empty() && o.license.empty())
        text += fmt::format("\nencrypted: needs a licence for KID {}{} (license-fetch --content {} ...)", info.kid,
                            info.license_server.empty() ? "" : " from " + info.license_server, info.content_id);
    out.event("resolved", dht::content_record_json(record), text);
    return info.magnet;
}

struct Item {
    lt::file_index_t index;
    fs::path source;      // in the state directory
    fs::path target;      // under --output
    std::optional<ContentHeader> header;
};

} // namespace

Outcome run_fetch(const FetchOptions& o, cli::Output& out)
{
    const auto start = clock::now();
    if (o.source.empty())
        throw Failure(Outcome::usage, "give a magnet link, a .torrent file or an encrypted file (try 'swarm-fetch --help')");
    if (o.output.empty())
        throw Failure(Outcome::usage, "--output PATH is required: where to write the content");
    dht::check_content_client_options(o.overlay);
    std::vector<LicenseKey> licence;
    if (!o.license.empty())
        licence = read_license_file(o.license);

    const std::string source = o.overlay.enabled() ? resolve_content(o, out) : o.source;
    lt::add_torrent_params params;
    if (source.starts_with("magnet:")) {
        lt::error_code ec;
        lt::parse_magnet_uri(source, params, ec);
        if (ec)
            throw Failure(Outcome::usage, fmt::format("invalid magnet link: {}", ec.message()));
    } else {
        std::error_code ec;
        if (!fs::is_regular_file(o.source, ec))
            throw Failure(Outcome::usage,
                          fmt::format("{}: no such file (give a magnet link, a .torrent file or an encrypted content file)",
                                      o.source));
        if (is_content_file(o.source))
            return decrypt_local(o, licence, out);
        params.ti = load_torrent_file(o.source);
    }
    std::vector<lt::tcp::endpoint> peers;
    for (const auto& peer : o.peers)
        peers.push_back(parse_peer(peer, "--peer"));
    const bool own_state = o.state_dir.empty();
    DownloadOptions d;
    d.listen = o.listen;
    d.peers = peers;
    d.state_dir = own_state ? fs::path(o.output + ".swarm") : fs::path(o.state_dir);
    d.timeout = o.timeout;
    d.stats_interval = o.stats_interval;
    d.rate_limit = o.rate_limit;
    d.progress_bar = !out.json() && isatty(STDERR_FILENO);
    catch_stop_signals();

    auto dl = download(std::move(params), d, out);
    const auto facts = describe(*dl.info);

    // Plan every output first: a missing key stops us before anything is written.
    const auto& storage = dl.info->files();
    std::vector<Item> items;
    for (const auto file : storage.file_range()) {
        if (storage.pad_file_at(file))
            continue;
        Item item;
        item.index = file;
        item.source = dl.save_path / storage.file_path(file);
        item.header = header_of(item.source);
        items.push_back(item);
    }
    const bool single = items.size() == 1 &&
                        !fs::path(storage.file_path(items.front().index)).has_parent_path();
    const bool decrypting = !licence.empty();
    std::vector<Key> keys;
    for (auto& item : items) {
        if (single) {
            item.target = o.output;
        } else {
            const fs::path relative = fs::path(storage.file_path(item.index)).lexically_relative(facts.name);
            item.target = fs::path(o.output) / relative;
            if (item.header && decrypting && item.target.extension() == ".enc")
                item.target.replace_extension();
        }
        if (item.header && decrypting) {
            keys.push_back(key_for(licence, o.license, *item.header, facts.name));
            if (!key_matches(*item.header, keys.back()))
                throw Failure(Outcome::auth, fmt::format("{}: the key for KID {} does not decrypt {} (key check mismatch)",
                                                         o.license, kid_hex(item.header->kid), facts.name));
        }
    }
    std::size_t key_index = 0;
    std::vector<std::string> kids;
    for (const auto& item : items) {
        std::error_code ec;
        if (item.target.has_parent_path())
            fs::create_directories(item.target.parent_path(), ec);
        if (item.header && decrypting)
            decrypt_file(item.source, item.target, keys[key_index++]);
        else
            copy_atomic(item.source, item.target);
        if (item.header && std::find(kids.begin(), kids.end(), kid_hex(item.header->kid)) == kids.end())
            kids.push_back(kid_hex(item.header->kid));
    }
    const bool encrypted = !kids.empty();
    if (encrypted && !decrypting)
        spdlog::warn("{} is encrypted: it needs a licence for KID {} (then: swarm-fetch {} --license FILE --output PLAIN)",
                     o.output, kids.front(), single ? o.output : "FILE.enc");

    auto or_null = [](const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); };
    std::string text = fmt::format("fetched {} ({} bytes, {} file(s)) in {:.1f} s{}\n", facts.name, facts.size,
                                   facts.files, dl.seconds, dl.resumed ? ", resumed" : "");
    text += encrypted ? (decrypting ? fmt::format("decrypted with KID {} into {}", kids.front(), o.output)
                                    : fmt::format("kept encrypted in {}: needs a licence for KID {}", o.output, kids.front()))
                      : fmt::format("written to {} (not encrypted)", o.output);
    out.event("fetched",
              {{"name", facts.name},
               {"info_hash_v1", or_null(facts.info_hash_v1)},
               {"info_hash_v2", or_null(facts.info_hash_v2)},
               {"size", facts.size},
               {"files", facts.files},
               {"output", o.output},
               {"encrypted", encrypted},
               {"decrypted", encrypted && decrypting},
               {"kid", encrypted ? nlohmann::json(kids.front()) : nlohmann::json()},
               {"kids", kids},
               {"resumed", dl.resumed},
               {"downloaded_bytes", dl.downloaded},
               {"download_s", dl.seconds},
               {"peers", dl.peers},
               {"duration_s", std::chrono::duration<double>(clock::now() - start).count()}},
              text);

    if (o.seed_after > 0) {
        SeedOptions seed;
        seed.seed_time = o.seed_after;
        seed.stats_interval = o.stats_interval;
        seed_until(*dl.session, dl.handle, facts.size, seed, out);
    }
    dl.session.reset();
    if (own_state) {
        std::error_code ec;
        fs::remove_all(d.state_dir, ec);
    }
    return Outcome::ok;
}

} // namespace imsp2p::swarm
