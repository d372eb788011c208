// overlay-probe's testbed file (TOML or INI, lib/probe), read from a path as
// `overlay-probe all --testbed FILE` does: the sections, then each entry's
// options parsed and checked as the probe's command line (no probe runs).
#include "cli/outcome.hpp"
#include "fuzz_support.hpp"
#include "probe/probe_cli.hpp"
#include "probe/testbed_file.hpp"

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static fuzz::InputFile file("testbed.toml");
    try {
        const auto path = file.write(fuzz::text(data, size)).string();
        for (const auto& entry : probe::read_testbed(path))
            probe::testbed_probe(entry, 5, path);
    } catch (const Failure&) {
        // refused with the file, the entry and the problem
    }
    return 0;
}
