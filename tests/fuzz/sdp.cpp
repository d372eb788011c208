// A peer's SDP offer or answer, as ims-call reads it from an INVITE, a
// 18x/200 or an ACK (lib/call/sdp: sofia-sip's parser, then our choice).
#include "call/sdp.hpp"
#include "fuzz_support.hpp"

using namespace imsp2p;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    call::RemoteMedia remote;
    call::parse_remote_sdp(fuzz::text(data, size), remote);
    return 0;
}
