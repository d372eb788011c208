#include "license/fetch_command.hpp"

#include "dht/state_files.hpp"
#include "license/license_client.hpp"
#include "license/license_request.hpp"
#include "swarm/clearkey_license.hpp"
#include "swarm/content_cipher.hpp"
#include "util/hex.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <regex>

namespace imsp2p::license {
namespace {

// --content ID: the KID (into o.kids) and, unless --server, the licence
// server of the content's newest valid record.
FetchOptions resolve_content(FetchOptions o, cli::Output& out)
{
    dht::check_content_id(o.content_id, "--content");
    o.overlay.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout * 1000));
    const auto record = dht::ContentClient(o.overlay).resolve(o.content_id);
    const auto& info = record.info;
    if (info.kid.empty())
        throw Failure(Outcome::negative, fmt::format("content {} is published in the clear: it needs no licence", o.content_id));
    if (o.server.empty() && info.license_server.empty())
        throw Failure(Outcome::usage,
                      fmt::format("the record of content {} names no licence server: give --server URL", o.content_id));
    o.kids.push_back(info.kid);
    if (o.server.empty())
        o.server = info.license_server;
    out.event("resolved", dht::content_record_json(record),
              fmt::format("content {}: KID {}, licence server {} (record by {})", o.content_id, info.kid, o.server,
                          info.publisher));
    return o;
}

} // namespace

Outcome run_fetch_license(const FetchOptions& given, cli::Output& out)
{
    dht::check_content_client_options(given.overlay);
    if (!given.content_id.empty() && !given.overlay.enabled())
        throw Failure(Outcome::usage, "--content ID is resolved through the overlay: give --dht HOST:PORT and --ca FILE");
    if (given.overlay.enabled() && given.content_id.empty())
        throw Failure(Outcome::usage, "--dht is for --content ID: give the content id to resolve");
    if (given.output.empty())
        throw Failure(Outcome::usage, "--output FILE is required: where to write the licence");
    if ((given.kids.empty() ? 0 : 1) + (given.file.empty() ? 0 : 1) + (given.content_id.empty() ? 0 : 1) != 1)
        throw Failure(Outcome::usage, "give one of --kid KID, --content ID or an encrypted FILE (try 'license-fetch --help')");
    if (given.server.empty() && given.content_id.empty())
        throw Failure(Outcome::usage, "--server URL is required: the licence server, e.g. http://127.0.0.70:8080");
    if (!given.request_id.empty() && !std::regex_match(given.request_id, std::regex("[A-Za-z0-9._~:-]{1,128}")))
        throw Failure(Outcome::usage, fmt::format("invalid --request-id '{}': 1 to 128 letters, digits or ._~:-", given.request_id));
    const FetchOptions o = given.content_id.empty() ? given : resolve_content(given, out);
    std::vector<swarm::Kid> kids;
    for (const auto& text : o.kids) {
        const auto kid = kid_from_hex(text);
        if (!kid)
            throw Failure(Outcome::usage, fmt::format("invalid --kid '{}': give 32 hex digits", text));
        kids.push_back(*kid);
    }
    if (!o.file.empty())
        kids.push_back(swarm::read_content_header(o.file).kid);
    auto credentials = resolve_credentials(o.credentials);
    const std::string impi = credentials.impi; // from --impi or --registration
    LicenseClient client(o.server, std::move(credentials), o.timeout, o.cacert);

    std::vector<std::string> kid_hex;
    for (const auto& kid : kids)
        kid_hex.push_back(to_hex(kid.data(), kid.size()));
    const std::string request_id = o.request_id.empty() ? new_request_id() : o.request_id;
    const auto answer = request_license(client, kids, request_id);
    if (answer.status != 200)
        throw refusal(answer, o.server, impi);
    const auto keys = swarm::parse_license(answer.body, o.server);
    for (const auto& kid : kids)
        if (!swarm::find_key(keys, kid))
            throw Failure(Outcome::negative, fmt::format("{} granted no key for KID {}", o.server, to_hex(kid.data(), kid.size())));
    dht::write_file(o.output, answer.body, 0600);
    out.event("license",
              {{"server", o.server}, {"kids", kid_hex}, {"output", o.output}, {"request_id", request_id},
               {"algorithm", answer.algorithm}},
              fmt::format("licence for {} written to {}", fmt::join(kid_hex, ", "), o.output));
    return Outcome::ok;
}

} // namespace imsp2p::license
