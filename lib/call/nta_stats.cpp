// nua creates its nta agent inside nua_create and has no accessor for it,
// yet nta_agent_get_stats needs it. While it sets up its transports nua
// calls nta_agent_via(agent), through the PLT of libsofia-sip-ua. This
// library defines that function: it notes the agent and calls sofia's own
// (the next definition, dlsym RTLD_NEXT). With a nua stack on the calling
// thread (su_root_threading 0), nua_create returns after that call, so the
// agent noted last on the thread is the new nua's.
#include "call/nta_stats.hpp"

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tag.h>

#include <dlfcn.h>

namespace imsp2p::call {
namespace {

thread_local nta_agent_t* noted_agent = nullptr;

} // namespace

nta_agent_s* last_nta_agent()
{
    return noted_agent;
}

void last_nta_agent_reset()
{
    noted_agent = nullptr;
}

NtaCounters NtaStats::read() const
{
    NtaCounters counters;
    if (!agent_)
        return counters;
    usize_t sent = 0, retry_request = 0, retry_response = 0;
    if (nta_agent_get_stats(agent_, NTATAG_S_SENT_REQUEST_REF(sent), NTATAG_S_RETRY_REQUEST_REF(retry_request),
                            NTATAG_S_RETRY_RESPONSE_REF(retry_response), TAG_END()) < 0)
        return counters;
    counters.known = true;
    counters.requests_sent = sent;
    counters.request_retries = retry_request;
    counters.response_retries = retry_response;
    return counters;
}

} // namespace imsp2p::call

extern "C" __attribute__((visibility("default"))) sip_via_t* nta_agent_via(nta_agent_t const* agent)
{
    using Real = sip_via_t* (*)(nta_agent_t const*);
    static const auto real = reinterpret_cast<Real>(dlsym(RTLD_NEXT, "nta_agent_via"));
    imsp2p::call::noted_agent = const_cast<nta_agent_t*>(agent);
    return real ? real(agent) : nullptr;
}
