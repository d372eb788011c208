#include "license/fetch_command.hpp"

#include "dht/state_files.hpp"
#include "license/license_client.hpp"
#include "swarm/clearkey_license.hpp"
#include "swarm/content_cipher.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <regex>

namespace imsp2p::license {
namespace {

// The server's {"error":…,"message":…} text, or the status alone.
std::string server_message(const HttpAnswer& answer)
{
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string())
        return body["message"].get<std::string>();
    return fmt::format("HTTP {}", answer.status);
}

} // namespace

Outcome run_fetch_license(const FetchOptions& o, cli::Output& out)
{
    if (o.server.empty())
        throw Failure(Outcome::usage, "--server URL is required: the licence server, e.g. http://127.0.0.70:8080");
    if (o.output.empty())
        throw Failure(Outcome::usage, "--output FILE is required: where to write the licence");
    if (o.kids.empty() == o.file.empty())
        throw Failure(Outcome::usage, "give either --kid KID or an encrypted FILE (try 'license-fetch --help')");
    if (!o.request_id.empty() && !std::regex_match(o.request_id, std::regex("[A-Za-z0-9._~:-]{1,128}")))
        throw Failure(Outcome::usage, fmt::format("invalid --request-id '{}': 1 to 128 letters, digits or ._~:-", o.request_id));
    std::vector<swarm::Kid> kids;
    for (const auto& text : o.kids) {
        const auto bytes = from_hex(text);
        if (!bytes || bytes->size() != 16)
            throw Failure(Outcome::usage, fmt::format("invalid --kid '{}': give 32 hex digits", text));
        swarm::Kid kid{};
        std::copy(bytes->begin(), bytes->end(), kid.begin());
        kids.push_back(kid);
    }
    if (!o.file.empty())
        kids.push_back(swarm::read_content_header(o.file).kid);
    LicenseClient client(o.server, resolve_credentials(o.credentials), o.timeout, o.cacert);

    nlohmann::json body{{"kids", nlohmann::json::array()}, {"type", "temporary"}};
    std::vector<std::string> kid_hex;
    for (const auto& kid : kids) {
        body["kids"].push_back(swarm::base64url_encode(kid.data(), kid.size()));
        kid_hex.push_back(to_hex(kid.data(), kid.size()));
    }
    const std::string request_id = o.request_id.empty() ? [] {
        const std::string bytes = random_bytes(16);
        return to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    }() : o.request_id;
    const auto answer = client.send("POST", "/license", body.dump(), {{"Request-Id", request_id}});
    const std::string message = server_message(answer);
    switch (answer.status) {
    case 200: break;
    case 401: throw Failure(Outcome::auth, fmt::format("{} rejected the credentials of {}", o.server, o.credentials.impi));
    case 402: throw Failure(Outcome::negative, fmt::format("payment required: {}", message));
    case 403: throw Failure(Outcome::auth, fmt::format("not entitled: {}", message));
    case 404: throw Failure(Outcome::negative, fmt::format("unknown KID: {}", message));
    case 429: throw Failure(Outcome::auth, fmt::format("throttled: {}", message));
    default: throw Failure(Outcome::negative, fmt::format("{} answered {}: {}", o.server, answer.status, message));
    }
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
