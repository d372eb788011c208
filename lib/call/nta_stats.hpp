// The transaction counters of the nta agent inside a nua (requests sent,
// retransmitted), for load mode's summary. nua keeps its agent private; see
// nta_stats.cpp for how it is found.
#pragma once

#include <cstdint>

struct nta_agent_s;

namespace imsp2p::call {

// The nta agent of the nua created last on this thread (null if unknown).
// Call right after nua_create.
nta_agent_s* last_nta_agent();
void last_nta_agent_reset();

struct NtaCounters {
    bool known = false;            // false: no agent was found (figures 0)
    std::uint64_t requests_sent = 0, request_retries = 0, response_retries = 0;
    std::uint64_t retransmissions() const { return request_retries + response_retries; }
};

class NtaStats {
public:
    explicit NtaStats(nta_agent_s* agent) : agent_(agent) {}
    NtaCounters read() const;

private:
    nta_agent_s* agent_;
};

} // namespace imsp2p::call
