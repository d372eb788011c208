#include "call/sdp.hpp"

#include <sofia-sip/sdp.h>
#include <sofia-sip/su_alloc.h>

#include <fmt/format.h>
#include <strings.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

namespace imsp2p::call {
namespace {

// RFC 4566 token characters.
bool token_char(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x27) || c == 0x2a || c == 0x2b || c == 0x2d || c == 0x2e ||
           (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x5e && c <= 0x7e);
}

bool all_tokens(std::string_view text, bool slashes)
{
    bool part_empty = true;
    for (const unsigned char c : text) {
        if (slashes && c == '/') {
            if (part_empty)
                return false;
            part_empty = true;
        } else if (!token_char(c)) {
            return false;
        } else {
            part_empty = false;
        }
    }
    return !part_empty;
}

bool all_digits(std::string_view text)
{
    return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

// Every m= line follows RFC 4566's grammar, checked before sofia-sip sees
// it: its parser (1.12.11) never returns, allocating without end, on some
// malformed media lines (a non-token byte in the transport, "RT@/AVP", or
// garbage after the port, "m=audio 4m==0").
//   m=<media> <port>[/<count>] <proto> <fmt> ...   proto = token *("/" token)
bool media_lines_valid(std::string_view body)
{
    while (!body.empty()) {
        const auto end = body.find_first_of("\r\n"); // sofia-sip ends a line at either
        const std::string_view line = body.substr(0, end);
        body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
        if (!line.starts_with("m="))
            continue;
        std::vector<std::string_view> fields;
        for (std::size_t at = 2; at < line.size();) {
            const auto stop = std::min(line.find_first_of(" \t", at), line.size());
            if (stop > at)
                fields.push_back(line.substr(at, stop - at));
            at = stop + 1;
        }
        if (fields.size() < 4 || !all_tokens(fields[0], false) || !all_tokens(fields[2], true))
            return false;
        const auto slash = fields[1].find('/');
        if (!all_digits(fields[1].substr(0, slash)) || (slash != std::string_view::npos && !all_digits(fields[1].substr(slash + 1))))
            return false;
        for (std::size_t i = 3; i < fields.size(); ++i)
            if (!all_tokens(fields[i], false))
                return false;
    }
    return true;
}

} // namespace

std::vector<Codec> supported_codecs()
{
    return {{0, "PCMU", 8000}, {8, "PCMA", 8000}};
}

std::string build_sdp(const LocalMedia& local)
{
    const char* family = local.address.find(':') != std::string::npos ? "IP6" : "IP4";
    std::string formats, maps;
    for (const auto& codec : local.codecs) {
        formats += fmt::format(" {}", codec.pt);
        maps += fmt::format("a=rtpmap:{} {}/{}\r\n", codec.pt, codec.name, codec.rate);
    }
    if (local.telephone_event_pt >= 0) {
        formats += fmt::format(" {}", local.telephone_event_pt);
        maps += fmt::format("a=rtpmap:{0} telephone-event/8000\r\na=fmtp:{0} 0-16\r\n", local.telephone_event_pt);
    }
    if (local.rtcp_port && local.rtcp_port != local.port + 1)
        maps += fmt::format("a=rtcp:{}\r\n", local.rtcp_port);
    if (local.rtcp_mux)
        maps += "a=rtcp-mux\r\n";
    maps += local.attributes;
    return fmt::format("v=0\r\n"
                       "o=- {0} {6} IN {1} {2}\r\n"
                       "s=imsp2p\r\n"
                       "c=IN {1} {2}\r\n"
                       "t=0 0\r\n"
                       "m=audio {3} RTP/AVP{4}\r\n"
                       "{5}"
                       "a=ptime:20\r\n"
                       "a=sendrecv\r\n",
                       local.session_id, family, local.address, local.port, formats, maps,
                       local.version ? local.version : local.session_id);
}

std::string parse_remote_sdp(const std::string& body, RemoteMedia& remote)
{
    if (body.empty())
        return "no SDP";
    if (!media_lines_valid(body))
        return "malformed SDP: an m= line is not <media> <port> <proto> <fmt>...";
    auto* home = static_cast<su_home_t*>(su_home_new(sizeof(su_home_t)));
    if (!home)
        return "out of memory";
    std::string error;
    sdp_parser_t* parser = sdp_parse(home, body.data(), static_cast<issize_t>(body.size()), sdp_f_strict);
    sdp_session_t* session = sdp_session(parser);
    if (!session) {
        const char* reason = sdp_parsing_error(parser);
        error = fmt::format("malformed SDP: {}", reason ? reason : "unknown error");
    } else {
        const sdp_media_t* audio = nullptr;
        for (const sdp_media_t* m = session->sdp_media; m; m = m->m_next)
            if (m->m_type == sdp_media_audio && m->m_proto == sdp_proto_rtp) {
                audio = m;
                break;
            }
        if (!audio) {
            error = "no RTP/AVP audio stream in the SDP";
        } else {
            const sdp_connection_t* c = audio->m_connections ? audio->m_connections : session->sdp_connection;
            if (!c || !c->c_address)
                error = "no connection address (c=) for the audio stream";
            else
                remote.address = c->c_address;
            remote.port = static_cast<unsigned>(audio->m_port);
            for (const sdp_rtpmap_t* map = audio->m_rtpmaps; map; map = map->rm_next) {
                if (!map->rm_encoding)
                    continue;
                if (strcasecmp(map->rm_encoding, "telephone-event") == 0 && map->rm_rate == 8000) {
                    if (remote.telephone_event_pt < 0)
                        remote.telephone_event_pt = map->rm_pt;
                    continue;
                }
                for (const auto& codec : supported_codecs())
                    if (strcasecmp(map->rm_encoding, codec.name.c_str()) == 0 && map->rm_rate == codec.rate)
                        remote.codecs.push_back({static_cast<int>(map->rm_pt), codec.name, codec.rate});
            }
            for (const sdp_attribute_t* a = audio->m_attributes; a; a = a->a_next) {
                if (!a->a_name)
                    continue;
                if (strcasecmp(a->a_name, "rtcp-mux") == 0)
                    remote.rtcp_mux = true;
                else if (strcasecmp(a->a_name, "rtcp") == 0 && a->a_value)
                    remote.rtcp_port = static_cast<unsigned>(std::strtoul(a->a_value, nullptr, 10) & 0xffff);
                else if ((strcasecmp(a->a_name, "curr") == 0 || strcasecmp(a->a_name, "des") == 0 ||
                          strcasecmp(a->a_name, "conf") == 0) && a->a_value)
                    remote.qos.push_back(fmt::format("{}:{}", a->a_name, a->a_value));
            }
            if (error.empty() && remote.port != 0 && remote.codecs.empty())
                error = "no codec in common (ims-call supports PCMU and PCMA)";
        }
    }
    sdp_parser_free(parser);
    su_home_unref(home);
    return error;
}

} // namespace imsp2p::call
