// swarm-fetch: download content from a BitTorrent swarm and decrypt it with a licence.
#include "cli/tool.hpp"
#include "swarm/fetch_command.hpp"

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("swarm-fetch", "Download content from a BitTorrent swarm and decrypt it with a Clear Key licence");
    auto& app = tool.app();
    swarm::FetchOptions o;

    app.add_option("source", o.source,
                   "A magnet link, a .torrent file, an encrypted file to decrypt, or with --dht a content id")
        ->type_name("MAGNET|TORRENT|FILE|CONTENT-ID");
    app.add_option("--output", o.output, "Where to write the content (a directory for a multi-file torrent)")
        ->type_name("PATH");
    app.add_option("--license", o.license, "Clear Key licence (JWK set) with the content key")->type_name("FILE");
    app.add_option("--listen", o.listen, "ADDRESS:PORT to use for BitTorrent (port 0: any)")
        ->type_name("ADDR")
        ->capture_default_str();
    app.add_option("--peer", o.peers, "Connect to this peer ADDRESS:PORT too, besides the trackers' (repeat for more)")
        ->type_name("ADDR");
    app.add_option("--state-dir", o.state_dir,
                   "Keep the download and its resume data here (default: PATH.swarm, removed when done)")
        ->type_name("DIR");
    app.add_option("--seed-after", o.seed_after, "Seed for SECONDS after the download")
        ->type_name("SECONDS")
        ->check(cli::positive());
    app.add_option("--rate-limit", o.rate_limit, "Download at most BYTES per second, e.g. 2m (default: no limit)")
        ->type_name("BYTES")
        ->transform(CLI::AsSizeValue(false));
    app.add_option("--stats-interval", o.stats_interval, "Seconds between fetch_stats and seed_stats events (--json)")
        ->type_name("SECONDS")
        ->check(cli::positive())
        ->capture_default_str();
    dht::add_content_client_options(app, o.overlay, "Content records");
    tool.add_timeout(60.0, "Give up after SECONDS without any data from the swarm");

    return tool.run(argc, argv, [&] {
        o.timeout = tool.common().timeout;
        return swarm::run_fetch(o, tool.out());
    });
}
