// The header of an encrypted content file (lib/swarm), as swarm-fetch and
// license-fetch read it from any file they are given.
#include "cli/outcome.hpp"
#include "fuzz_support.hpp"
#include "swarm/content_header.hpp"

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::span<const std::uint8_t> bytes(data, size);
    swarm::has_content_magic(bytes);
    try {
        if (const auto header = swarm::decode_header(bytes))
            swarm::key_matches(*header, swarm::Key{});
    } catch (const Failure&) {
        // a future format version
    }
    return 0;
}
