#include "license/deposit.hpp"

#include "cli/outcome.hpp"
#include "license/license_client.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace imsp2p::license {

std::string deposit_key(const DepositRequest& r, const ClientCredentials& credentials)
{
    LicenseClient client(r.server, credentials, r.timeout, r.cacert);
    const nlohmann::json body{{"k", r.key_b64url}, {"policy", r.policy}, {"price", r.price}, {"content_id", r.content_id}};
    const auto answer = client.send("PUT", "/keys/" + r.kid_hex, body.dump(), {});
    if (answer.status == 200 || answer.status == 201)
        return client.server() + "/license";
    const auto reply = nlohmann::json::parse(answer.body, nullptr, false);
    const std::string message = reply.is_object() && reply.value("message", nlohmann::json()).is_string()
                                    ? reply["message"].get<std::string>()
                                    : fmt::format("HTTP {}", answer.status);
    const Outcome outcome = answer.status == 401 || answer.status == 403 || answer.status == 429 ? Outcome::auth : Outcome::negative;
    throw Failure(outcome, fmt::format("{} refused the key deposit ({}): {}", r.server, answer.status, message));
}

} // namespace imsp2p::license
