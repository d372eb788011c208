// One call (an INVITE dialog) as ims-call sees it, on either side, and its
// result: one JSON object per call (the "call" event of ims-call(1)).
#pragma once

#include "call/rtp.hpp"
#include "call/sdp.hpp"
#include "call/user_agent.hpp"
#include "cli/outcome.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::call {

struct Leg {
    using Clock = std::chrono::steady_clock;

    nua_handle_t* handle = nullptr;
    bool incoming = false;
    std::string call_id, from, to;
    std::string transport;      // udp, tcp, tls: of the INVITE (its top Via)
    std::string identity;       // outgoing: our P-Preferred-Identity; incoming: P-Asserted- or P-Preferred-Identity
    Clock::time_point invite_at = Clock::now();       // sent or received
    std::optional<Clock::time_point> provisional_at;  // first 18x
    std::optional<Clock::time_point> answered_at;     // 2xx
    std::optional<Clock::time_point> ended_at;        // BYE sent or received
    int status = 0;             // final status of the INVITE (0: none yet)
    std::string reason;         // its phrase
    Outcome outcome = Outcome::ok;
    std::string error;          // failure cause, empty on success
    std::string ended_by;       // local, remote, cancel, reject
    int auth_attempts = 0;
    std::vector<std::string> redirects; // outgoing: the 3xx Contacts followed, in order
    unsigned pracks = 0;        // PRACKs answered 2xx (caller: sent; answerer: received)
    unsigned updates = 0;       // UPDATEs answered 2xx (sent or received)
    unsigned answer_at_prack = 0; // answerer: answer when this many PRACKs came (0: not waiting)
    bool update_sent = false;   // ours is sent (--update, or the precondition flow's)
    bool precondition = false;  // the call uses QoS preconditions (RFC 3312)
    std::optional<Clock::time_point> precondition_met_at; // both sides' resources reserved
    bool cancelled = false;     // we sent CANCEL (--ring-timeout)
    bool finished = false;
    LocalMedia local;           // our description (each new offer or answer raises its version)
    std::string local_sdp;      // the SDP we last sent (offered again to a re-INVITE)
    RemoteMedia remote;
    Codec codec;
    std::unique_ptr<RtpSession> rtp;
    std::unique_ptr<LoopTimer> timer;

    void fail(Outcome why, std::string cause)
    {
        if (outcome == Outcome::ok) {
            outcome = why;
            error = std::move(cause);
        }
    }
};

// Our SDP for a host and RTP session (port 9 without one), with a fresh session id.
LocalMedia local_media(const std::string& host, const RtpSession* rtp, std::vector<Codec> codecs);

// Answers an UPDATE (RFC 3311) of the call: 200 with our description again
// (a new version; QoS lines when the call uses preconditions), 200 without
// a body to one without an offer, 488 to an offer we cannot take. Returns
// whether it was accepted; the offer's description is then leg.remote.
bool answer_update(nua_t* nua, Leg& leg, const NuaEvent& e);
// Sends an UPDATE with our description again, a new version, `attributes` as its further lines.
void send_update(Leg& leg, const std::string& attributes);

// Fills call_id, from and to from a request or response.
void note_dialog(Leg& leg, const sip_t* sip);

// The value of an extension header sofia does not parse (e.g.
// P-Asserted-Identity), or empty.
std::string unknown_header(const sip_t* sip, const char* name);

// The "call" event's fields and its human text.
nlohmann::json call_fields(const Leg& leg);
std::string call_text(const Leg& leg);

// The outcome of a final status other than 2xx (DESIGN.md §3): 401/403/407
// authorisation, 408 no answer, the rest a negative answer; nua's own 9xx
// statuses: 904 (no challenge matches our credentials) authorisation, the
// rest local errors.
Outcome outcome_of_status(int status);

} // namespace imsp2p::call
