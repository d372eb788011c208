// UPDATE (RFC 3311) inside a call, both ways: our new offer, and our answer
// to the peer's. nua sends and matches the requests; the SDP is ours.
#include "call/leg.hpp"
#include "call/precondition.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace imsp2p::call {
namespace {

// Our description again, a version further (RFC 3264 8: a new offer or answer in the session).
const std::string& next_description(Leg& leg, const std::string& attributes)
{
    leg.local.version = (leg.local.version ? leg.local.version : leg.local.session_id) + 1;
    leg.local.attributes = attributes;
    leg.local_sdp = build_sdp(leg.local);
    return leg.local_sdp;
}

} // namespace

bool answer_update(nua_t* nua, Leg& leg, const NuaEvent& e)
{
    const std::string body = payload_text(e.sip);
    if (body.empty()) {
        nua_respond(e.handle, SIP_200_OK, NUTAG_WITH_THIS(nua), TAG_END());
        ++leg.updates;
        return true;
    }
    RemoteMedia offer;
    std::string error = parse_remote_sdp(body, offer);
    if (error.empty() && offer.codecs.empty())
        error = "the audio stream is rejected (port 0)";
    if (error.empty() && leg.codec.pt >= 0) {
        bool kept = false; // the codec in use stays (no codec change mid-call)
        for (const auto& codec : offer.codecs)
            kept = kept || codec.name == leg.codec.name;
        if (!kept)
            error = fmt::format("the offer drops {}, the codec in use", leg.codec.name);
    }
    if (!error.empty()) {
        spdlog::info("UPDATE refused: {}", error);
        const std::string warning = fmt::format("399 {} \"{}\"", leg.local.address, error);
        nua_respond(e.handle, 488, "Not Acceptable Here", NUTAG_WITH_THIS(nua), SIPTAG_WARNING_STR(warning.c_str()), TAG_END());
        return false;
    }
    // Our resources count as reserved now (see precondition.hpp); the peer's as its offer says.
    const std::string attributes = leg.precondition ? qos_attributes({true, peer_status(offer).remote}, false) : std::string();
    leg.remote = offer;
    const std::string& sdp = next_description(leg, attributes);
    nua_respond(e.handle, SIP_200_OK, NUTAG_WITH_THIS(nua), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
    ++leg.updates;
    return true;
}

void send_update(Leg& leg, const std::string& attributes)
{
    const std::string& sdp = next_description(leg, attributes);
    leg.update_sent = true;
    nua_update(leg.handle, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sdp.c_str()), TAG_END());
}

} // namespace imsp2p::call
