#include "swarm/publish_command.hpp"

#include "dht/overlay_ca.hpp"
#include "dht/state_files.hpp"
#include "license/deposit.hpp"
#include "license/license_db.hpp"
#include "swarm/clearkey_license.hpp"
#include "swarm/content_announcer.hpp"
#include "swarm/content_cipher.hpp"
#include "swarm/encrypting_source.hpp"
#include "swarm/seeder.hpp"
#include "swarm/swarm_session.hpp"
#include "swarm/torrent_maker.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/alert_types.hpp>
#include <libtorrent/session.hpp>
#include <libtorrent/torrent_flags.hpp>
#include <libtorrent/torrent_handle.hpp>
#include <libtorrent/torrent_info.hpp>
#include <libtorrent/torrent_status.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace imsp2p::swarm {
namespace {

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point start) { return std::chrono::duration<double>(clock::now() - start).count(); }

void check_options(const PublishOptions& o)
{
    auto usage = [](const std::string& message) { return Failure(Outcome::usage, message); };
    if (o.input.empty())
        throw usage("give the FILE or DIR to publish (try 'swarm-publish --help')");
    if (o.out_dir.empty())
        throw usage("--out DIR is required: the publish directory");
    if (o.v1_only && o.v2_only)
        throw usage("--v1-only and --v2-only exclude each other");
    check_piece_size(o.piece_size);
    if (o.no_encrypt && (o.show_key || !o.key_file.empty() || !o.license_out.empty()))
        throw usage("--no-encrypt publishes in the clear: --show-key, --key-file and --license-out need a key");
    if (!o.seed && (o.super_seed || o.seed_time > 0 || o.ratio > 0 || !o.listen.empty() || !o.peers.empty() ||
                    o.upload_slots > 0))
        throw usage("--listen, --peer, --super-seed, --upload-slots, --seed-time and --ratio need --seed");
    if (o.reseed && !o.seed)
        throw usage("--reseed needs --seed");
    if (o.reseed && (o.show_key || !o.key_file.empty() || !o.license_out.empty()))
        throw usage("--reseed makes no key: --show-key, --key-file and --license-out do not apply");
    if (o.seed && o.listen.empty())
        throw usage("--seed needs --listen ADDRESS:PORT");
    for (const auto& url : o.trackers)
        if (!url.starts_with("http://") && !url.starts_with("https://") && !url.starts_with("udp://"))
            throw usage(fmt::format("invalid --tracker '{}': give an http://, https:// or udp:// URL", url));
    for (const auto& url : o.web_seeds)
        if (!url.starts_with("http://") && !url.starts_with("https://"))
            throw usage(fmt::format("invalid --web-seed '{}': give an http:// or https:// URL", url));
    if (!o.license_server.empty() && (o.no_encrypt || o.reseed))
        throw usage("--license-server deposits the new key: not with --no-encrypt or --reseed");
    if (o.license_server.empty() && (o.price > 0 || o.license_policy != "free" || !o.credentials.impi.empty()))
        throw usage("--license-policy, --price and --impi are for --license-server");
    if (!o.license_server.empty()) {
        const auto policy = license::parse_policy(o.license_policy);
        if (!policy)
            throw usage(fmt::format("invalid --license-policy '{}': free, subscription or pay-per-download", o.license_policy));
        if ((*policy == license::Policy::pay_per_download) != (o.price > 0))
            throw usage("--price must be positive for pay-per-download, and is only for it");
    }
    if (!o.content_id.empty())
        dht::check_content_id(o.content_id, "--content-id");
    if (o.overlay.enabled() && (o.publisher.empty() || o.publisher_dir.empty()))
        throw usage("--dht needs --publisher NAME and --credentials DIR: the certificate content records are signed with");
    if (!o.overlay.enabled() && (!o.publisher.empty() || !o.publisher_dir.empty()))
        throw usage("--publisher and --credentials sign content records: give --dht HOST:PORT too");
    dht::check_content_client_options(o.overlay);
    if (o.overlay.enabled() && o.reseed)
        throw usage("--dht publishes the content record of a new publication: not with --reseed");
    if (o.lifetime < 10 || o.lifetime > dht::max_content_lifetime)
        throw usage(fmt::format("--lifetime {} is out of range: 10 to {} seconds", o.lifetime, dht::max_content_lifetime));
}

// --credentials DIR: --ca defaults to DIR/ca.crt, as for p2p-node.
PublishOptions with_defaults(PublishOptions o)
{
    if (o.overlay.enabled() && o.overlay.ca.empty() && !o.publisher_dir.empty())
        o.overlay.ca = (fs::path(o.publisher_dir) / "ca.crt").string();
    if (!o.listen.empty())
        o.overlay.bind = dht::client_bind_for(o.listen);
    return o;
}

// The regular files of the input, relative to it ("" for a single file);
// Failure(usage) for a missing, empty or unreadable input.
std::vector<fs::path> input_files(const fs::path& input)
{
    std::error_code ec;
    const auto status = fs::status(input, ec);
    if (ec || !fs::exists(status))
        throw Failure(Outcome::usage, fmt::format("{}: no such file or directory", input.string()));
    if (fs::is_regular_file(status)) {
        if (fs::file_size(input, ec) == 0)
            throw Failure(Outcome::usage, fmt::format("{}: empty file: nothing to publish", input.string()));
        std::ifstream probe(input, std::ios::binary);
        if (!probe)
            throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", input.string(), std::strerror(errno)));
        return {fs::path()};
    }
    if (!fs::is_directory(status))
        throw Failure(Outcome::usage, fmt::format("{}: not a regular file or directory", input.string()));
    std::vector<fs::path> files;
    fs::recursive_directory_iterator it(input, ec);
    if (ec)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", input.string(), ec.message()));
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (ec)
            throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", it->path().string(), ec.message()));
        if (it->is_regular_file())
            files.push_back(fs::relative(it->path(), input));
    }
    if (ec)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", input.string(), ec.message()));
    if (files.empty())
        throw Failure(Outcome::usage, fmt::format("{}: no files to publish", input.string()));
    std::sort(files.begin(), files.end());
    return files;
}

void write_secret(const fs::path& file, const std::string& text)
{
    if (fs::exists(file))
        throw Failure(Outcome::usage, fmt::format("{}: exists: keys are never overwritten", file.string()));
    dht::write_file(file, text, 0600, true);
}

Outcome seed_torrent(const PublishOptions& o, std::shared_ptr<lt::torrent_info> info, const fs::path& save_path,
                     bool just_hashed, cli::Output& out)
{
    catch_stop_signals();
    std::vector<lt::tcp::endpoint> peers;
    for (const auto& peer : o.peers)
        peers.push_back(parse_peer(peer, "--peer"));
    SessionTuning tuning;
    tuning.upload_slots = o.upload_slots > 0 ? o.upload_slots : default_upload_slots;
    auto session = open_session(o.listen, "--listen", tuning);
    const auto size = describe(*info).size;
    lt::add_torrent_params params;
    params.ti = std::move(info);
    params.save_path = save_path.string();
    // Just hashed: no need to check the files again. Otherwise libtorrent checks them first.
    if (just_hashed)
        params.flags |= lt::torrent_flags::seed_mode;
    if (o.super_seed)
        params.flags |= lt::torrent_flags::super_seeding;
    params.flags &= ~lt::torrent_flags::auto_managed;
    params.flags &= ~lt::torrent_flags::paused;
    const auto handle = session->add_torrent(std::move(params));
    if (!just_hashed) {
        // Wait for libtorrent's check of the files, then demand all of them.
        bool checked = false;
        while (!checked && !stop_requested()) {
            session->wait_for_alert(std::chrono::milliseconds(100));
            std::vector<lt::alert*> alerts;
            if (const auto error = drain_alerts(*session, &alerts); !error.empty())
                throw Failure(Outcome::local, fmt::format("cannot seed: {}", error));
            for (const auto* alert : alerts)
                checked = checked || lt::alert_cast<lt::torrent_checked_alert>(alert) != nullptr;
        }
        const auto status = handle.status();
        if (!status.is_seeding && !stop_requested())
            throw Failure(Outcome::usage, fmt::format("{}: the data does not match the torrent ({:.1f}% verified)",
                                                      save_path.string(), status.progress * 100));
    }
    out.event("seeding", {{"listen", o.listen}, {"port", listening_port(*session)}},
              fmt::format("seeding on {} (Ctrl-C to stop)", o.listen));
    SeedOptions seed;
    seed.seed_time = o.seed_time;
    seed.ratio = o.ratio;
    seed.stats_interval = o.stats_interval;
    seed.peers = peers;
    seed_until(*session, handle, size, seed, out);
    return Outcome::ok;
}

// --reseed: the publication made earlier in --out, seeded again after a check.
Outcome reseed(const PublishOptions& o, cli::Output& out)
{
    fs::path input = fs::path(o.input).lexically_normal();
    if (input.filename().empty())
        input = input.parent_path();
    const std::string name = fs::absolute(input).filename().string();
    const fs::path torrent_path = fs::path(o.out_dir) / (name + ".torrent");
    if (!fs::exists(torrent_path))
        throw Failure(Outcome::usage, fmt::format("{}: no such file: --reseed needs an earlier publication of {} in {}",
                                                  torrent_path.string(), name, o.out_dir));
    auto info = load_torrent_file(torrent_path);
    const fs::path save_path = o.no_encrypt ? fs::absolute(input).parent_path() : fs::absolute(fs::path(o.out_dir) / "data");
    const auto facts = describe(*info);
    auto or_null = [](const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); };
    out.event("reseeding",
              {{"name", facts.name},
               {"info_hash_v1", or_null(facts.info_hash_v1)},
               {"info_hash_v2", or_null(facts.info_hash_v2)},
               {"magnet", facts.magnet},
               {"torrent", torrent_path.string()}},
              fmt::format("checking {} against {}", (save_path / facts.name).string(), torrent_path.string()));
    return seed_torrent(o, std::move(info), save_path, false, out);
}

} // namespace

Outcome run_publish(const PublishOptions& options, cli::Output& out)
{
    const auto o = with_defaults(options);
    check_options(o);
    if (o.reseed)
        return reseed(o, out);
    const auto start = clock::now();
    fs::path input = fs::path(o.input).lexically_normal();
    if (input.filename().empty())
        input = input.parent_path();
    const auto files = input_files(input);
    // Credentials are checked before any work, so a typo costs no hashing.
    std::optional<license::ClientCredentials> publisher;
    if (!o.license_server.empty())
        publisher = license::resolve_credentials(o.credentials);
    std::optional<dht::Credential> record_signer;
    if (o.overlay.enabled())
        record_signer = dht::load_node_credential(o.publisher_dir, o.publisher, dht::load_certificate(o.overlay.ca).get());
    const std::string name = fs::absolute(input).filename().string();
    const fs::path out_dir = o.out_dir;
    const fs::path torrent_path = out_dir / (name + ".torrent");
    const fs::path key_path = o.key_file.empty() ? out_dir / (name + ".key") : fs::path(o.key_file);
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec || !fs::is_directory(out_dir))
        throw Failure(Outcome::local, fmt::format("{}: cannot create the publish directory: {}", out_dir.string(),
                                                  ec ? ec.message() : "not a directory"));
    if (fs::exists(torrent_path))
        throw Failure(Outcome::usage,
                      fmt::format("{}: exists: publish into another --out directory", torrent_path.string()));

    // Encrypt into OUT/data (the torrent's root), or torrent the input in place.
    // The ciphertext files are made at their final size first; the hashing pass
    // reads each plaintext once, encrypts, writes and hashes it.
    fs::path content = fs::absolute(input);
    Kid kid{};
    Key key{};
    std::vector<EncryptionPlan> plans;
    if (!o.no_encrypt) {
        kid = random_kid();
        key = random_key();
        const fs::path data = fs::absolute(out_dir / "data");
        content = files.front().empty() ? data / (name + ".enc") : data / name;
        if (fs::exists(content))
            throw Failure(Outcome::usage, fmt::format("{}: exists: publish into another --out directory", content.string()));
        for (const auto& file : files) {
            const fs::path target = file.empty() ? content : content / (file.string() + ".enc");
            fs::create_directories(target.parent_path(), ec);
            if (ec)
                throw Failure(Outcome::local, fmt::format("{}: cannot create: {}", target.parent_path().string(), ec.message()));
            plans.push_back(plan_encryption(file.empty() ? input : input / file, target, kid, key));
        }
    }

    TorrentSpec spec;
    spec.content = content;
    spec.piece_size = static_cast<int>(o.piece_size);
    spec.v1_only = o.v1_only;
    spec.v2_only = o.v2_only;
    spec.private_flag = o.private_flag;
    spec.trackers = o.trackers;
    spec.web_seeds = o.web_seeds;
    spec.comment = o.comment;
    spec.creator = o.creator;
    spec.hashing_threads = o.hashing_threads;
    if (!o.no_encrypt)
        spec.source = [&plans](const lt::file_storage& storage, std::string save_path) {
            return encrypting_source(storage, std::move(save_path), plans);
        };
    const auto hash_start = clock::now();
    const auto torrent_bytes = make_torrent(spec);
    const double hash_s = seconds_since(hash_start);
    check_unchanged(plans);
    const double encrypt_s = o.no_encrypt ? 0.0 : hash_s;
    dht::write_file(torrent_path, std::string(torrent_bytes.begin(), torrent_bytes.end()), 0644, true);
    const auto info = parse_torrent(torrent_bytes, torrent_path.string());
    const auto facts = describe(*info);

    std::string license_file;
    if (!o.no_encrypt) {
        const std::string license = license_json({LicenseKey{kid, key}});
        write_secret(key_path, license);
        if (!o.license_out.empty()) {
            write_secret(o.license_out, license);
            license_file = o.license_out;
        }
    }
    std::int64_t plain_size = 0;
    for (const auto& file : files)
        plain_size += static_cast<std::int64_t>(fs::file_size(file.empty() ? input : input / file));
    const std::string content_id = o.content_id.empty() ? [] {
        const std::string bytes = random_bytes(16);
        return to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }() : o.content_id;
    const std::string kid_hex = o.no_encrypt ? "" : to_hex(kid.data(), kid.size());
    // The key goes to the licence server only once the torrent is written:
    // a failed publication leaves no key deposited for content nobody has.
    std::string license_url;
    if (publisher) {
        license::DepositRequest deposit;
        deposit.server = o.license_server;
        deposit.cacert = o.cacert;
        deposit.kid_hex = kid_hex;
        deposit.key_b64url = base64url_encode(key.data(), key.size());
        deposit.content_id = content_id;
        deposit.policy = o.license_policy;
        deposit.price = o.price;
        license_url = license::deposit_key(deposit, *publisher);
    }
    auto or_null = [](const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); };

    // The content record goes out once the key is deposited: a reader who
    // finds it can get a licence at once.
    std::unique_ptr<ContentAnnouncer> announcer;
    std::optional<dht::ContentRecord> record;
    if (record_signer) {
        dht::ContentInfo info{content_id, facts.info_hash_v1, facts.info_hash_v2, facts.magnet, kid_hex,
                              o.license_server, facts.name, plain_size, {}};
        announcer = std::make_unique<ContentAnnouncer>(o.overlay, std::move(*record_signer), std::move(info),
                                                       std::chrono::seconds(o.lifetime));
        record = announcer->publish();
    }

    nlohmann::json fields{{"content_id", content_id},
                          {"name", facts.name},
                          {"encrypted", !o.no_encrypt},
                          {"kid", or_null(kid_hex)},
                          {"size", plain_size},
                          {"torrent_size", facts.size},
                          {"files", facts.files},
                          {"piece_size", facts.piece_size},
                          {"pieces", facts.pieces},
                          {"info_hash_v1", or_null(facts.info_hash_v1)},
                          {"info_hash_v2", or_null(facts.info_hash_v2)},
                          {"magnet", facts.magnet},
                          {"torrent", torrent_path.string()},
                          {"data", content.string()},
                          {"key_file", o.no_encrypt ? nlohmann::json() : nlohmann::json(key_path.string())},
                          {"license_file", or_null(license_file)},
                          {"license_server", or_null(o.license_server)},
                          {"license_url", or_null(license_url)},
                          {"license_policy", o.license_server.empty() ? nlohmann::json() : nlohmann::json(o.license_policy)},
                          {"trackers", o.trackers},
                          {"web_seeds", o.web_seeds},
                          {"private", o.private_flag},
                          {"encrypt_s", encrypt_s},
                          {"hash_s", hash_s},
                          {"content_key", record ? nlohmann::json(dht::content_key(content_id)) : nlohmann::json()},
                          {"publisher", record ? nlohmann::json(record->info.publisher) : nlohmann::json()},
                          {"record_expires", record ? nlohmann::json(record->expires) : nlohmann::json()},
                          {"duration_s", seconds_since(start)}};
    std::string text = fmt::format("content id:   {}\n", content_id);
    text += o.no_encrypt ? "kid:          (not encrypted)\n" : fmt::format("kid:          {}\n", kid_hex);
    if (o.show_key) {
        fields["key"] = to_hex(key.data(), key.size());
        text += fmt::format("key:          {}\n", to_hex(key.data(), key.size()));
    }
    if (!facts.info_hash_v1.empty())
        text += fmt::format("info hash v1: {}\n", facts.info_hash_v1);
    if (!facts.info_hash_v2.empty())
        text += fmt::format("info hash v2: {}\n", facts.info_hash_v2);
    text += fmt::format("magnet:       {}\ntorrent:      {}\n", facts.magnet, torrent_path.string());
    if (!o.no_encrypt)
        text += fmt::format("key file:     {}\n", key_path.string());
    if (!license_url.empty())
        text += fmt::format("licence:      {} ({})\n", license_url, o.license_policy);
    if (record)
        text += fmt::format("record:       {} in the overlay, signed by {}, expires in {} s\n", dht::content_key(content_id),
                            record->info.publisher, record->expires - std::time(nullptr));
    text += fmt::format("size:         {} bytes in {} file(s), {} pieces of {} bytes", plain_size, facts.files,
                        facts.pieces, facts.piece_size);
    out.event("published", fields, text);

    if (!o.seed)
        return Outcome::ok;
    if (announcer)
        announcer->keep_fresh();
    return seed_torrent(o, std::make_shared<lt::torrent_info>(*info), content.parent_path(), true, out);
}

} // namespace imsp2p::swarm
