// SDP offer/answer for one audio stream (RFC 3264): what ims-call offers
// (PCMU, PCMA, telephone-event), and the checks on what a peer offers or
// answers. Parsing is sofia-sip's sdp_parse; only the choice is ours.
#pragma once

#include <string>
#include <vector>

namespace imsp2p::call {

struct Codec {
    int pt = -1;            // RTP payload type
    std::string name;       // PCMU, PCMA
    unsigned rate = 8000;
};

// What we need from a peer's description.
struct RemoteMedia {
    std::string address;    // c= of the audio stream (or the session's)
    unsigned port = 0;      // 0: the stream is rejected
    std::vector<Codec> codecs; // offered/answered audio codecs we support, in the peer's order
    int telephone_event_pt = -1;
    unsigned rtcp_port = 0; // a=rtcp (RFC 3605); 0: the RTP port + 1
    bool rtcp_mux = false;  // a=rtcp-mux (RFC 5761)
    std::vector<std::string> qos; // RFC 3312 lines of the audio stream: "curr:qos local none", "des:...", "conf:..."
};

// Our side of the media: where we receive and what we send.
struct LocalMedia {
    std::string address;
    unsigned port = 9;      // 9 (discard) when no RTP is exchanged (--media none)
    std::vector<Codec> codecs;
    int telephone_event_pt = 101;
    unsigned long long session_id = 0;
    unsigned long long version = 0; // o= session version; 0: session_id (a later offer of the session raises it)
    unsigned rtcp_port = 0;  // our RTCP port; 0: no RTCP
    bool rtcp_mux = false;   // offer (or accept) RTCP on the RTP port
    std::string attributes;  // further media lines ("a=...\r\n"), e.g. QoS preconditions
};

// The codecs ims-call supports, in its order of preference.
std::vector<Codec> supported_codecs();

// An SDP body (offer, or answer when local.codecs holds the one chosen codec).
std::string build_sdp(const LocalMedia& local);

// Parses a peer's SDP. Returns an error text (empty on success): malformed
// SDP, no audio stream, or no codec in common (the caller answers 488).
std::string parse_remote_sdp(const std::string& body, RemoteMedia& remote);

} // namespace imsp2p::call
