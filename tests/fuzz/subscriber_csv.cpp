// The subscriber CSV (DESIGN.md §4) every server and UE tool reads.
#include "fuzz_support.hpp"
#include "subscriber/subscriber.hpp"
#include "cli/outcome.hpp"

#include <sstream>

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::istringstream input(fuzz::text(data, size));
    try {
        const auto rows = subscriber::parse_subscribers(input, "fuzz.csv");
        if (!rows.empty())
            subscriber::find_subscriber(rows, rows.front().impi);
    } catch (const Failure&) {
        // a malformed row: refused with its line and column
    }
    return 0;
}
