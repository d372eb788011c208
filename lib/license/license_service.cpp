#include "license/license_service.hpp"

#include "cli/outcome.hpp"
#include "license/clearkey_request.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <optional>

namespace imsp2p::license {
namespace {

constexpr std::size_t max_kids = 16;

// [A-Za-z0-9._~:-]{1,128}, checked by hand: cheaper than std::regex on every request.
bool valid_request_id(const std::string& id)
{
    return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](unsigned char c) {
        return std::isalnum(c) || c == '.' || c == '_' || c == '~' || c == ':' || c == '-';
    });
}

std::string hex_of(const std::string& bytes)
{
    return to_hex(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

std::int64_t unix_now()
{
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

} // namespace

Reply error_reply(int status, const std::string& code, const std::string& message)
{
    Reply reply;
    reply.status = status;
    // The message may quote the request (its target), which need not be
    // UTF-8: invalid bytes become U+FFFD rather than an exception.
    reply.body = nlohmann::json{{"error", code}, {"message", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    return reply;
}

LicenseService::LicenseService(HttpAuthenticator& auth, LicenseDb& db, CdrWriter& cdrs, const MasterKey& master)
    : auth_(auth), db_(db), readers_(db.path()), cdrs_(cdrs), master_(master), keys_(master)
{
}

Reply LicenseService::handle(const Request& request)
{
    std::promise<Reply> answer;
    auto reply = answer.get_future();
    handle(request, [&answer](Reply r) { answer.set_value(std::move(r)); });
    return reply.get();
}

void LicenseService::handle(const Request& request, Done done)
{
    const bool is_license = request.target == "/license";
    const bool is_deposit = request.target.starts_with("/keys/");
    if (!is_license && !is_deposit)
        return done(error_reply(404, "not_found", "no such resource: POST /license or PUT /keys/KID"));
    if ((is_license && request.method != "POST") || (is_deposit && request.method != "PUT")) {
        auto reply = error_reply(405, "method_not_allowed", fmt::format("{} takes {}", request.target, is_license ? "POST" : "PUT"));
        reply.headers.emplace_back("Allow", is_license ? "POST" : "PUT");
        return done(std::move(reply));
    }
    const auto verdict = auth_.check(request.authorization, request.method, request.target, request.source);
    switch (verdict.kind) {
    case AuthResult::Kind::accept: break;
    case AuthResult::Kind::challenge: {
        ++stats_.challenged;
        spdlog::debug("401 for {} {}: {}", request.method, request.target, verdict.reason);
        auto reply = error_reply(401, "unauthorized", "authenticate with HTTP Digest (" + verdict.reason + ")");
        for (const auto& value : verdict.challenges)
            reply.headers.emplace_back("WWW-Authenticate", value);
        return done(std::move(reply));
    }
    case AuthResult::Kind::bad_request:
        ++stats_.refused;
        return done(error_reply(400, "bad_credentials", "unreadable Authorization header: " + verdict.reason));
    case AuthResult::Kind::throttled: {
        ++stats_.refused;
        auto reply = error_reply(429, "too_many_failures",
                                 fmt::format("too many failed attempts {}; retry in {} s",
                                             verdict.address_throttled ? "from this address" : "for this identity",
                                             verdict.retry_after_s));
        reply.headers.emplace_back("Retry-After", std::to_string(verdict.retry_after_s));
        return done(std::move(reply));
    }
    }
    if (is_license)
        return license(request, verdict, std::move(done));
    auto reply = deposit(request, verdict.impi, request.target.substr(6));
    conclude(reply, false, request.method, request.target, verdict.impi, verdict.algorithm);
    done(std::move(reply));
}

void LicenseService::conclude(const Reply& reply, bool is_license, const std::string& method, const std::string& target,
                              const std::string& impi, const std::string& algorithm)
{
    if (reply.status == 200 && is_license)
        ++stats_.granted;
    else if (reply.status >= 400)
        ++stats_.refused;
    spdlog::info("{} {} by {} ({}): {}", method, target, impi, algorithm, reply.status);
}

void LicenseService::license(const Request& request, const AuthResult& verdict, Done done)
{
    auto prepared = prepare(request, verdict.impi);
    if (auto* refusal = std::get_if<Reply>(&prepared)) {
        conclude(*refusal, true, request.method, request.target, verdict.impi, verdict.algorithm);
        return done(std::move(*refusal));
    }
    // Charge: answered once the batch holding these CDRs is on disk, from the
    // writer's thread (`done` posts the reply back to its connection).
    auto& wanted = std::get<Wanted>(prepared);
    std::int64_t price = 0;
    for (const auto& grant : wanted.grants)
        price += grant.price;
    // The request id the client sent, for a 409 (a KID's grant carries it with a suffix).
    std::string request_id = request.request_id;
    cdrs_.submit(std::move(wanted.grants),
                 [this, keys = std::move(wanted.keys), price, impi = verdict.impi, algorithm = verdict.algorithm,
                  request_id = std::move(request_id), done = std::move(done)](Charge charge) {
                     auto reply = charged_reply(charge, keys, price, impi, request_id);
                     conclude(reply, true, "POST", "/license", impi, algorithm);
                     done(std::move(reply));
                 });
}

std::variant<LicenseService::Wanted, Reply> LicenseService::prepare(const Request& request, const std::string& impi)
{
    const auto body = read_clearkey_request(request.body, max_kids);
    if (!body)
        return error_reply(400, "malformed_json", "the body is not a JSON object (a Clear Key request: {\"kids\":[...],\"type\":\"temporary\"})");
    if (!body->kids_array || body->kid_count == 0 || body->kid_count > max_kids)
        return error_reply(400, "bad_request", fmt::format("\"kids\" must be an array of 1 to {} KIDs", max_kids));
    if (body->type_given && !body->type_temporary)
        return error_reply(400, "bad_request", "only \"type\":\"temporary\" licences are issued");
    std::string request_id = request.request_id;
    if (request_id.empty())
        request_id = hex_of(random_bytes(16)); // no retry protection without the client's id
    else if (!valid_request_id(request_id))
        return error_reply(400, "bad_request", "Request-Id must be 1 to 128 letters, digits or ._~:-");

    Wanted wanted;
    {
        const auto db = readers_.take();
        std::optional<std::optional<Account>> account; // read when a subscription is to be checked
        for (const auto& item : body->kids) {
            const auto kid = item ? swarm::base64url_decode(*item) : std::nullopt;
            if (!kid || kid->size() != 16)
                return error_reply(400, "bad_request", "each KID must be 16 bytes in base64url");
            const std::string kid_bytes(kid->begin(), kid->end());
            const auto content = db->find_content(kid_bytes);
            if (!content)
                return error_reply(404, "unknown_kid", fmt::format("no key for KID {}", hex_of(kid_bytes)));
            std::int64_t price = 0;
            const bool own = content->owner == impi;
            if (content->policy == Policy::subscription && !own) {
                if (!account)
                    account = db->find_account(impi);
                if (!(*account && (*account)->subscribed_until > unix_now()))
                    return error_reply(403, "not_entitled",
                                       fmt::format("KID {} needs a subscription, which {} does not have", hex_of(kid_bytes), impi));
            }
            if (content->policy == Policy::pay_per_download && !own)
                price = content->price;
            const auto key = keys_.open(kid_bytes, content->sealed_key);
            if (!key || key->size() != 16) {
                spdlog::error("the sealed key of KID {} does not open with this master key", hex_of(kid_bytes));
                return error_reply(500, "key_unavailable", "the key of this KID cannot be unsealed");
            }
            const std::string kid_hex = hex_of(kid_bytes);
            wanted.grants.push_back(Grant{impi, content->content_id, kid_hex, policy_name(content->policy),
                                          body->kid_count == 1 ? request_id : request_id + "/" + kid_hex, price});
            swarm::LicenseKey license_key;
            std::copy(kid->begin(), kid->end(), license_key.kid.begin());
            std::copy(key->begin(), key->end(), license_key.key.begin());
            wanted.keys.push_back(license_key);
        }
    }
    return wanted;
}

Reply LicenseService::charged_reply(Charge charge, const std::vector<swarm::LicenseKey>& keys, std::int64_t price,
                                    const std::string& impi, const std::string& request_id)
{
    std::optional<Reply> refusal;
    switch (charge) {
    case Charge::charged: break;
    case Charge::insufficient:
        refusal = error_reply(402, "payment_required",
                              fmt::format("{} {}: the balance of {} is too low",
                                          keys.size() == 1 ? "KID " + to_hex(keys[0].kid.data(), keys[0].kid.size()) + " costs"
                                                           : "these KIDs cost",
                                          price, impi));
        break;
    case Charge::conflict:
        refusal = error_reply(409, "request_id_reused", fmt::format("request id {} was used for another KID", request_id));
        break;
    case Charge::error:
        refusal = error_reply(503, "charging_unavailable", "the charging record could not be written; nothing was charged");
        refusal->headers.emplace_back("Retry-After", "1");
        break;
    }
    if (refusal)
        return *refusal;
    Reply reply;
    reply.status = 200;
    reply.body = swarm::license_json(keys);
    reply.headers.emplace_back("Cache-Control", "no-store");
    return reply;
}

Reply LicenseService::deposit(const Request& request, const std::string& impi, const std::string& kid_hex)
{
    const auto kid = from_hex(kid_hex);
    if (!kid || kid->size() != 16)
        return error_reply(400, "bad_request", "PUT /keys/KID takes the KID as 32 hex digits");
    const std::string kid_bytes(kid->begin(), kid->end());
    const auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
        return error_reply(400, "malformed_json", "the body is not a JSON object ({\"k\":...,\"policy\":...,\"price\":...})");
    const auto k = body.value("k", nlohmann::json()).is_string() ? swarm::base64url_decode(body["k"].get<std::string>())
                                                                 : std::nullopt;
    if (!k || k->size() != 16)
        return error_reply(400, "bad_request", "\"k\" must be the 16-byte key in base64url");
    const auto policy_json = body.value("policy", nlohmann::json("free"));
    const auto policy = policy_json.is_string() ? parse_policy(policy_json.get<std::string>()) : std::nullopt;
    if (!policy)
        return error_reply(400, "bad_request", "\"policy\" must be free, subscription or pay-per-download");
    const auto price_json = body.value("price", nlohmann::json(0));
    if (!price_json.is_number_integer() || price_json.get<std::int64_t>() < 0 ||
        (*policy == Policy::pay_per_download) != (price_json.get<std::int64_t>() > 0))
        return error_reply(400, "bad_request", "\"price\" must be a positive integer for pay-per-download, 0 otherwise");
    const auto content_id_json = body.value("content_id", nlohmann::json(""));
    if (!content_id_json.is_string() || content_id_json.get<std::string>().size() > 128)
        return error_reply(400, "bad_request", "\"content_id\" must be a string of at most 128 characters");

    std::lock_guard lock(db_mutex_);
    const auto account = db_.find_account(impi);
    if (!account || !account->publisher)
        return error_reply(403, "not_a_publisher", fmt::format("{} may not deposit keys (no publisher role)", impi));
    const auto existing = db_.find_content(kid_bytes);
    if (existing && existing->owner != impi)
        return error_reply(403, "not_owner", fmt::format("KID {} belongs to another publisher", hex_of(kid_bytes)));
    Content content;
    content.kid = kid_bytes;
    content.content_id = content_id_json.get<std::string>();
    content.owner = impi;
    content.sealed_key = master_.seal(kid_bytes, std::string(k->begin(), k->end()));
    content.policy = *policy;
    content.price = price_json.get<std::int64_t>();
    try {
        db_.put_content(content);
    } catch (const Failure& failure) {
        // A full disk, say: the publisher learns the key is not kept and may
        // retry; the server goes on serving what it holds.
        if (failure.outcome() != Outcome::local)
            throw;
        spdlog::error("PUT {} by {}: {}", request.target, impi, failure.what());
        return error_reply(503, "storage_unavailable", "the key could not be stored; nothing was changed");
    }
    Reply reply;
    reply.status = existing ? 200 : 201;
    reply.body = nlohmann::json{{"kid", hex_of(kid_bytes)},
                                {"content_id", content.content_id},
                                {"policy", policy_name(content.policy)},
                                {"price", content.price}}
                     .dump() +
                 "\n";
    return reply;
}

} // namespace imsp2p::license
