#include "license/license_request.hpp"

#include "swarm/clearkey_license.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

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

HttpAnswer request_license(LicenseClient& client, const std::vector<swarm::Kid>& kids, const std::string& request_id)
{
    nlohmann::json body{{"kids", nlohmann::json::array()}, {"type", "temporary"}};
    for (const auto& kid : kids)
        body["kids"].push_back(swarm::base64url_encode(kid.data(), kid.size()));
    return client.send("POST", "/license", body.dump(), {{"Request-Id", request_id}});
}

std::optional<swarm::Kid> kid_from_hex(const std::string& text)
{
    const auto bytes = from_hex(text);
    if (!bytes || bytes->size() != 16)
        return std::nullopt;
    swarm::Kid kid{};
    std::copy(bytes->begin(), bytes->end(), kid.begin());
    return kid;
}

std::string new_request_id()
{
    const std::string bytes = random_bytes(16);
    return to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::string error_code(const HttpAnswer& answer)
{
    const auto body = nlohmann::json::parse(answer.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_string())
        return body["error"].get<std::string>();
    return "";
}

Failure refusal(const HttpAnswer& answer, const std::string& server, const std::string& impi)
{
    const std::string message = server_message(answer);
    switch (answer.status) {
    case 401: return Failure(Outcome::auth, fmt::format("{} rejected the credentials of {}", server, impi));
    case 402: return Failure(Outcome::negative, fmt::format("payment required: {}", message));
    case 403: return Failure(Outcome::auth, fmt::format("not entitled: {}", message));
    case 404: return Failure(Outcome::negative, fmt::format("unknown KID: {}", message));
    case 429: return Failure(Outcome::auth, fmt::format("throttled: {}", message));
    default: return Failure(Outcome::negative, fmt::format("{} answered {}: {}", server, answer.status, message));
    }
}

} // namespace imsp2p::license
