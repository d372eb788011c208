// Clear Key licences (JWK sets) as swarm-fetch reads a licence file and
// license-fetch reads the server's answer, and the {"error":…} body of a
// refusal license-fetch reports (lib/swarm clearkey_license, lib/license).
#include "cli/outcome.hpp"
#include "fuzz_support.hpp"
#include "license/license_request.hpp"
#include "swarm/clearkey_license.hpp"

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto input = fuzz::text(data, size);
    try {
        const auto keys = swarm::parse_license(input, "fuzz.licence.json");
        if (!keys.empty())
            swarm::find_key(keys, keys.front().kid);
    } catch (const Failure&) {
        // not a Clear Key licence: refused with the reason
    }
    license::HttpAnswer answer;
    answer.status = 403;
    answer.body = input;
    license::error_code(answer);
    license::refusal(answer, "http://127.0.130.1:8080", "alice@ims.test");
    return 0;
}
