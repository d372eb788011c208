#include "call/leg.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cmath>
#include <strings.h>

namespace imsp2p::call {
namespace {

std::string uri_text(const url_t* url)
{
    if (!url)
        return {};
    char buffer[512];
    url_e(buffer, sizeof buffer, url);
    buffer[sizeof buffer - 1] = 0;
    return buffer;
}

nlohmann::json ms_between(Leg::Clock::time_point from, const std::optional<Leg::Clock::time_point>& to)
{
    if (!to)
        return nullptr;
    const double ms = std::chrono::duration<double, std::milli>(*to - from).count();
    return std::round(ms * 1000) / 1000;
}

} // namespace

void note_dialog(Leg& leg, const sip_t* sip)
{
    if (!sip)
        return;
    if (leg.call_id.empty() && sip->sip_call_id && sip->sip_call_id->i_id)
        leg.call_id = sip->sip_call_id->i_id;
    if (leg.from.empty() && sip->sip_from)
        leg.from = uri_text(sip->sip_from->a_url);
    if (leg.to.empty() && sip->sip_to)
        leg.to = uri_text(sip->sip_to->a_url);
    // The top Via is the caller's own in the responses it gets too: the INVITE's transport.
    if (leg.transport.empty() && sip->sip_via && sip->sip_via->v_protocol) {
        const std::string protocol = sip->sip_via->v_protocol; // SIP/2.0/UDP
        const auto slash = protocol.rfind('/');
        for (const char c : protocol.substr(slash == std::string::npos ? 0 : slash + 1))
            leg.transport += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
}

std::string unknown_header(const sip_t* sip, const char* name)
{
    for (const sip_unknown_t* header = sip ? sip->sip_unknown : nullptr; header; header = header->un_next)
        if (header->un_name && strcasecmp(header->un_name, name) == 0 && header->un_value)
            return header->un_value;
    return {};
}

Outcome outcome_of_status(int status)
{
    if (status == 401 || status == 403 || status == 407 || status == 904)
        return Outcome::auth;
    if (status >= 900)
        return Outcome::local;
    if (status == 408)
        return Outcome::no_answer;
    return Outcome::negative;
}

nlohmann::json call_fields(const Leg& leg)
{
    nlohmann::json fields{
        {"call_id", leg.call_id},
        {"direction", leg.incoming ? "incoming" : "outgoing"},
        {"from", leg.from},
        {"to", leg.to},
        {"transport", leg.transport.empty() ? nlohmann::json() : nlohmann::json(leg.transport)},
        {"identity", leg.identity.empty() ? nlohmann::json() : nlohmann::json(leg.identity)},
        {"status", leg.status ? nlohmann::json(leg.status) : nlohmann::json()},
        {"reason", leg.reason.empty() ? nlohmann::json() : nlohmann::json(leg.reason)},
        {"outcome", outcome_name(leg.outcome)},
        {"error", leg.error.empty() ? nlohmann::json() : nlohmann::json(leg.error)},
        {"provisional_ms", ms_between(leg.invite_at, leg.provisional_at)},
        {"setup_ms", ms_between(leg.invite_at, leg.answered_at)},
    };
    nlohmann::json duration = nullptr;
    if (leg.answered_at && leg.ended_at)
        duration = std::round(std::chrono::duration<double>(*leg.ended_at - *leg.answered_at).count() * 1000) / 1000;
    fields["duration_s"] = duration;
    fields["prack_count"] = leg.pracks;
    fields["update_count"] = leg.updates;
    fields["precondition"] = leg.precondition ? nlohmann::json{{"met_ms", ms_between(leg.invite_at, leg.precondition_met_at)}}
                                              : nlohmann::json();
    if (!leg.incoming)
        fields["redirected_to"] = leg.redirects;
    fields["ended_by"] = leg.ended_by.empty() ? nlohmann::json() : nlohmann::json(leg.ended_by);
    fields["media"] = leg.rtp ? leg.rtp->json() : nlohmann::json();
    return fields;
}

std::string call_text(const Leg& leg)
{
    std::string text = fmt::format("{} call {} → {}\n", leg.incoming ? "incoming" : "outgoing", leg.from, leg.to);
    auto row = [&text](std::string_view key, const std::string& value) {
        if (!value.empty())
            text += fmt::format("  {:<12}{}\n", key, value);
    };
    row("call-id", leg.call_id);
    row("status", leg.status ? fmt::format("{} {}", leg.status, leg.reason) : "no final answer");
    if (leg.provisional_at)
        row("18x after", fmt::format("{:.1f} ms", std::chrono::duration<double, std::milli>(*leg.provisional_at - leg.invite_at).count()));
    if (leg.answered_at)
        row("setup", fmt::format("{:.1f} ms", std::chrono::duration<double, std::milli>(*leg.answered_at - leg.invite_at).count()));
    if (leg.answered_at && leg.ended_at)
        row("duration", fmt::format("{:.2f} s (ended by {})", std::chrono::duration<double>(*leg.ended_at - *leg.answered_at).count(),
                                    leg.ended_by));
    if (leg.rtp) {
        const RtpStats s = leg.rtp->stats();
        const auto media = leg.rtp->json();
        row("media", fmt::format("{} {} → {}", media["codec"].is_null() ? "-" : media["codec"].get<std::string>(),
                                 media["local"].get<std::string>(),
                                 media["remote"].is_null() ? "-" : media["remote"].get<std::string>()));
        row("rtp", fmt::format("sent {}, received {}, lost {} ({:.2f} %), jitter {:.2f} ms", s.packets_sent,
                               s.packets_received, s.packets_lost, s.loss_percent, s.jitter_ms));
        if (s.rtt_samples)
            row("delay", fmt::format("one-way {:.3f} ms (estimate: half the RTCP round trip of {:.3f} ms, {} samples)", s.rtt_ms / 2,
                                     s.rtt_ms, s.rtt_samples));
    }
    row("error", leg.error);
    return text;
}

} // namespace imsp2p::call
