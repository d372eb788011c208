// swarm-publish: encrypt content, make a hybrid torrent of it, write the key, seed.
#include "cli/tool.hpp"
#include "swarm/publish_command.hpp"

#include <fmt/format.h>

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("swarm-publish", "Encrypt a file or directory, create a BitTorrent torrent of it and seed it");
    auto& app = tool.app();
    swarm::PublishOptions o;

    app.add_option("input", o.input, "The file or directory to publish")->type_name("FILE|DIR");
    app.add_option("--out", o.out_dir, "Publish directory: ciphertext, torrent and key go there")
        ->type_name("DIR");
    app.add_flag("--no-encrypt", o.no_encrypt, "Publish in the clear: torrent the input itself, no key");
    app.add_option("--key-file", o.key_file, "Where to write the key, a Clear Key licence, mode 0600 (default: DIR/NAME.key)")
        ->type_name("FILE");
    app.add_option("--license-out", o.license_out, "Also write the Clear Key licence (JWK set) to FILE, mode 0600")
        ->type_name("FILE");
    app.add_flag("--show-key", o.show_key, "Print the content key (a secret) in the output");
    app.add_option("--content-id", o.content_id, "Content id to publish under (default: 32 random hex digits)")
        ->type_name("ID");

    auto* torrent = app.add_option_group("Torrent", "How the torrent is made");
    torrent->add_flag("--v1-only", o.v1_only, "A BitTorrent v1 torrent only (default: hybrid v1+v2)");
    torrent->add_flag("--v2-only", o.v2_only, "A BitTorrent v2 torrent only (default: hybrid v1+v2)");
    torrent->add_option("--piece-size", o.piece_size, "Piece size, a power of two from 16 KiB, e.g. 262144 or 256k (default: automatic)")
        ->type_name("BYTES")
        ->transform(CLI::AsSizeValue(false));
    torrent->add_option("--tracker", o.trackers, "Announce URL, one tier each (repeat for more)")->type_name("URL");
    torrent->add_option("--web-seed", o.web_seeds, "HTTP web seed URL, BEP 19 (repeat for more)")->type_name("URL");
    torrent->add_flag("--private", o.private_flag, "Set the private flag: peers only from the trackers");
    torrent->add_option("--comment", o.comment, "Comment stored in the torrent")->type_name("TEXT");
    torrent->add_option("--creator", o.creator, "Creator stored in the torrent (default: none)")->type_name("TEXT");
    torrent->add_option("--hashing-threads", o.hashing_threads, "Threads hashing the pieces (default: one per core)")
        ->type_name("N")
        ->check(cli::positive());

    auto* licence = app.add_option_group("Licence server", "Deposit the key with a licence server");
    licence->add_option("--license-server", o.license_server, "Deposit the key at this licence server, http(s)://HOST[:PORT]")
        ->type_name("URL");
    licence->add_option("--license-policy", o.license_policy, "free, subscription or pay-per-download")
        ->type_name("POLICY")
        ->capture_default_str();
    licence->add_option("--price", o.price, "Price per download (pay-per-download)")->type_name("AMOUNT");
    licence->add_option("--impi", o.credentials.impi, "The publisher's private identity (Digest username)")->type_name("ID");
    licence->add_option("--password", o.credentials.password, "The publisher's Digest password (prefer --subscribers)")
        ->type_name("TEXT");
    licence->add_option("--subscribers", o.credentials.subscribers, "Subscriber CSV to take the --impi row's credentials from")
        ->type_name("FILE");
    licence->add_option("--cacert", o.cacert, "CA certificate (PEM) to verify an https licence server with")
        ->type_name("FILE");

    auto* overlay = app.add_option_group("Content record", "Publish a content record in the managed overlay (p2p-node --dht)");
    dht::add_content_client_options(*overlay, o.overlay);
    overlay->add_option("--publisher", o.publisher, "The publisher's name: the CN of its certificate from the overlay CA")
        ->type_name("NAME");
    overlay->add_option("--credentials", o.publisher_dir, "Directory with NAME.crt and NAME.key (and ca.crt, the default --ca)")
        ->type_name("DIR");
    overlay->add_option("--lifetime", o.lifetime, "Seconds the content record lives; republished at half of it while seeding")
        ->type_name("SECONDS")
        ->capture_default_str();

    auto* seed = app.add_option_group("Seeding", "Stay and seed after publishing");
    seed->add_flag("--seed", o.seed, "Seed until SIGINT or SIGTERM, --seed-time or --ratio");
    seed->add_flag("--reseed", o.reseed,
                   "Seed the earlier publication of FILE|DIR in --out again (checked first; no new key or torrent)");
    seed->add_option("--listen", o.listen, "ADDRESS:PORT to accept peers on (port 0: any)")->type_name("ADDR");
    seed->add_option("--peer", o.peers, "Connect to this peer ADDRESS:PORT too, besides the trackers' (repeat for more)")
        ->type_name("ADDR");
    seed->add_flag("--super-seed", o.super_seed,
                   "Super seeding (BEP 16): offer each piece to one peer first, so that peers share it on");
    seed->add_option("--upload-slots", o.upload_slots,
                     fmt::format("Peers to upload to at once, local ones too: the others share among themselves (default: {})",
                                 swarm::default_upload_slots))
        ->type_name("N")
        ->check(cli::positive());
    seed->add_option("--seed-time", o.seed_time, "Stop seeding after SECONDS")->type_name("SECONDS")->check(cli::positive());
    seed->add_option("--ratio", o.ratio, "Stop seeding once uploaded bytes reach RATIO times the content size")
        ->type_name("RATIO")
        ->check(cli::positive());
    seed->add_option("--stats-interval", o.stats_interval, "Seconds between seed_stats events (--json)")
        ->type_name("SECONDS")
        ->check(cli::positive())
        ->capture_default_str();

    return tool.run(argc, argv, [&] { return swarm::run_publish(o, tool.out()); });
}
