// Torrent files and magnet links as swarm-fetch takes them (lib/swarm):
// a .torrent through parse_torrent and describe (what swarm-fetch prints),
// a magnet through libtorrent's parser as run_fetch calls it.
#include "cli/outcome.hpp"
#include "fuzz_support.hpp"
#include "swarm/torrent_maker.hpp"

#include <libtorrent/add_torrent_params.hpp>
#include <libtorrent/magnet_uri.hpp>
#include <libtorrent/torrent_info.hpp>

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto input = fuzz::text(data, size);
    if (input.starts_with("magnet:")) {
        lt::add_torrent_params params;
        lt::error_code ec;
        lt::parse_magnet_uri(input, params, ec);
        return 0;
    }
    try {
        const auto info = swarm::parse_torrent(std::vector<char>(input.begin(), input.end()), "fuzz.torrent");
        swarm::describe(*info);
    } catch (const Failure&) {
        // not a valid torrent: refused with libtorrent's reason
    }
    return 0;
}
