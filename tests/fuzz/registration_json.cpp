// The output of `ims-register --json` as ims-call and license-fetch read it
// with --registration FILE (lib/ue read_registration, then each tool's own
// use of the fields; no network I/O happens before a run).
#include "call/call_options.hpp"
#include "cli/outcome.hpp"
#include "fuzz_support.hpp"
#include "license/client_credentials.hpp"
#include "ue/register_command.hpp"

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static fuzz::InputFile file("alice.json");
    const auto path = file.write(fuzz::text(data, size)).string();
    try {
        ue::read_registration(path);
    } catch (const Failure&) {
    }
    try {
        call::CallOptions options;
        options.target = "sip:bob@ims.test";
        options.registration = path;
        options.password = "secret";
        call::plan_call(options);
    } catch (const Failure&) {
    }
    try {
        license::CredentialOptions options;
        options.registration = path;
        options.password = "secret";
        license::resolve_credentials(options);
    } catch (const Failure&) {
    }
    return 0;
}
