// QoS preconditions (RFC 3312) as 3GPP TS 24.229 uses them: segmented
// status ("local" and "remote" from the writer's view), both directions
// (sendrecv), mandatory strength. ims-call has no resource reservation to
// wait for: its own resources count as reserved when it sends its second
// offer (caller: the UPDATE) or its answer to it (answerer).
#pragma once

#include "call/sdp.hpp"

#include <string>

namespace imsp2p::call {

struct QosStatus {
    bool local = false;   // our resources reserved (both directions)
    bool remote = false;  // the peer's
};

// The a=curr, a=des (mandatory, both segments) and, when `confirm`, a=conf
// (asking the peer to say when its side is reserved) lines.
std::string qos_attributes(const QosStatus& status, bool confirm);

// The peer's description asks for preconditions: a mandatory des:qos line.
bool wants_preconditions(const RemoteMedia& remote);

// The peer's current status from its a=curr lines, turned to our view
// (its "local" is our "remote").
QosStatus peer_status(const RemoteMedia& remote);

} // namespace imsp2p::call
