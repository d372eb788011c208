#include "license/http_auth.hpp"

#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "auth/digest_header.hpp"
#include "auth/digest_parts.hpp"
#include "util/base64.hpp"
#include "util/hmac.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace imsp2p::license {
namespace {

constexpr std::size_t mac_size = 8; // tells our nonces from foreign ones; not a secret's protection

std::string challenge_value(const std::string& realm, const std::string& nonce, const char* algorithm, bool stale)
{
    return fmt::format("Digest realm=\"{}\", nonce=\"{}\", qop=\"auth\", algorithm={}{}", realm, nonce, algorithm,
                       stale ? ", stale=true" : "");
}

AuthResult refuse(AuthResult::Kind kind, std::string reason)
{
    AuthResult result;
    result.kind = kind;
    result.reason = std::move(reason);
    return result;
}

} // namespace

HttpAuthenticator::HttpAuthenticator(hss::SubscriberStore& store, HttpAuthConfig config)
    : store_(store), config_(std::move(config)), key_(random_bytes(32)),
      identity_failures_(config_.max_failures, config_.failure_window, config_.block_time, config_.max_tracked),
      address_failures_(config_.max_address_failures, config_.failure_window, config_.block_time, config_.max_tracked)
{
}

std::optional<hss::Record> HttpAuthenticator::find_subscriber(const std::string& impi)
{
    if (const auto it = subscribers_.find(impi); it != subscribers_.end())
        return it->second;
    auto record = store_.find(impi);
    if (record) // unknown names are not kept: a flood of them must not grow the table
        subscribers_.emplace(impi, *record);
    return record;
}

std::string HttpAuthenticator::sign(const std::string& payload) const { return hmac_sha256(key_, payload).substr(0, mac_size); }

bool HttpAuthenticator::ours(const std::string& nonce) const
{
    const auto bytes = base64_decode(nonce);
    if (!bytes || bytes->size() <= mac_size)
        return false;
    const std::string payload(bytes->begin(), bytes->end() - mac_size);
    return CRYPTO_memcmp(sign(payload).data(), bytes->data() + payload.size(), mac_size) == 0;
}

void HttpAuthenticator::purge(Clock::time_point now)
{
    while (!order_.empty() && (order_.front().first <= now || order_.size() > config_.max_pending)) {
        pending_.erase(order_.front().second);
        order_.pop_front();
    }
}

bool HttpAuthenticator::mark_nc(Pending& p, std::uint64_t nc)
{
    const std::size_t width = p.seen.size();
    if (nc > p.top_nc) {
        const std::uint64_t shift = nc - p.top_nc;
        if (shift >= width)
            p.seen.reset();
        else
            p.seen <<= shift;
        p.seen.set(0);
        p.top_nc = nc;
        return true;
    }
    const std::uint64_t behind = p.top_nc - nc;
    if (behind >= width || p.seen.test(behind))
        return false; // too old to tell, or seen: a replay
    p.seen.set(behind);
    return true;
}

AuthResult HttpAuthenticator::challenge(const std::optional<hss::Record>& subscriber, bool stale, std::string reason)
{
    const auto now = Clock::now();
    purge(now);
    AuthResult result;
    result.kind = AuthResult::Kind::challenge;
    result.reason = std::move(reason);
    Pending pending;
    pending.expires = now + config_.nonce_lifetime;
    std::string nonce;
    if (subscriber && subscriber->auth == subscriber::AuthScheme::aka) {
        const aka::Milenage milenage(subscriber->k, subscriber->opc);
        const auto vector = aka::generate_vector(milenage, subscriber->amf, store_.take_next_sqn(subscriber->impi, config_.ind));
        std::string rand_autn(vector.rand.begin(), vector.rand.end());
        rand_autn.append(vector.autn.begin(), vector.autn.end());
        nonce = auth::encode_aka_nonce(vector.rand, vector.autn, sign(rand_autn));
        pending.impi = subscriber->impi;
        pending.password = auth::aka_password(1, vector.xres, vector.ik, vector.ck);
        pending.rand = vector.rand;
        pending.aka = true;
        result.challenges.push_back(challenge_value(config_.realm, nonce, "AKAv1-MD5", stale));
    } else {
        // Bound to the named md5 subscriber, or to nobody: the answer's
        // username then picks the subscriber.
        const std::string payload = random_bytes(16);
        nonce = base64_encode(payload + sign(payload));
        if (subscriber)
            pending.impi = subscriber->impi;
        // RFC 7616 §3.7: the preferred algorithm first.
        if (config_.offer_sha256)
            result.challenges.push_back(challenge_value(config_.realm, nonce, "SHA-256", stale));
        result.challenges.push_back(challenge_value(config_.realm, nonce, "MD5", stale));
    }
    order_.emplace_back(pending.expires, nonce);
    pending_.emplace(nonce, std::move(pending));
    return result;
}

AuthResult HttpAuthenticator::fail(const std::string& identity, const std::string& source,
                                   const std::optional<hss::Record>& subscriber, std::string reason)
{
    const auto now = Clock::now();
    identity_failures_.record_failure(identity, now);
    if (!source.empty())
        address_failures_.record_failure(source, now);
    // A fresh challenge: the client may ask its user again.
    return challenge(subscriber && subscriber->auth == subscriber::AuthScheme::aka ? subscriber : std::nullopt, false,
                     std::move(reason));
}

AuthResult HttpAuthenticator::check(const std::string& authorization, const std::string& method, const std::string& uri,
                                    const std::string& source)
{
    // Read the header before taking the lock: every request thread waits on it.
    const auto params = authorization.empty() ? std::nullopt : auth::parse_digest_params(authorization);
    std::lock_guard lock(mutex_);
    const auto now = Clock::now();
    if (const long wait = source.empty() ? 0 : address_failures_.blocked_for(source, now)) {
        auto result = refuse(AuthResult::Kind::throttled, "too_many_failures_from_address");
        result.retry_after_s = wait;
        result.address_throttled = true;
        return result;
    }
    if (authorization.empty())
        return challenge(std::nullopt, false, "no_credentials");
    if (!params)
        return refuse(AuthResult::Kind::bad_request, "malformed_authorization");
    static const std::string absent;
    auto get = [&](const char* name) -> const std::string& {
        const auto it = params->find(name);
        return it == params->end() ? absent : it->second;
    };
    const std::string& username = get("username");
    if (username.empty())
        return refuse(AuthResult::Kind::bad_request, "no_username");

    if (const long wait = identity_failures_.blocked_for(username, now)) {
        auto result = refuse(AuthResult::Kind::throttled, "too_many_failures");
        result.retry_after_s = wait;
        return result;
    }
    const auto subscriber = find_subscriber(username);
    const std::string& nonce = get("nonce");
    // IMS style: the client names itself before any challenge (TS 24.229).
    if (nonce.empty())
        return challenge(subscriber, false, "no_credentials");
    purge(now);
    const auto it = pending_.find(nonce);
    if (it == pending_.end()) {
        // Ours but forgotten (expired): stale, the client retries without asking its user.
        const bool stale = ours(nonce);
        return challenge(subscriber, stale, stale ? "stale_nonce" : "unknown_nonce");
    }
    if (!subscriber)
        return fail(username, source, subscriber, "unknown_user");
    Pending& pending = it->second;
    if (!pending.impi.empty() && pending.impi != subscriber->impi)
        return fail(username, source, subscriber, "nonce_of_another_user");
    if (subscriber->auth == subscriber::AuthScheme::aka && !pending.aka)
        return challenge(subscriber, false, "aka_required");

    if (pending.aka && !get("auts").empty()) {
        // The USIM found the SQN stale: move SEQ on and challenge again.
        const Pending used = pending;
        pending_.erase(it);
        const auto bytes = base64_decode(get("auts"));
        aka::Auts auts{};
        if (!bytes || bytes->size() != auts.size())
            return refuse(AuthResult::Kind::bad_request, "malformed_auts");
        std::copy(bytes->begin(), bytes->end(), auts.begin());
        const auto sqn_ms = aka::verify_auts(aka::Milenage(subscriber->k, subscriber->opc), used.rand, auts);
        if (!sqn_ms)
            return fail(username, source, subscriber, "auts_mac_mismatch");
        store_.resync(subscriber->impi, aka::seq_of(*sqn_ms));
        return challenge(subscriber, false, "resync");
    }

    const auto algorithm = auth::parse_digest_algorithm(get("algorithm"));
    const bool offered = algorithm && !algorithm->session &&
                         (pending.aka ? algorithm->aka == 1
                                      : !algorithm->aka && (algorithm->hash == auth::DigestHash::md5 || config_.offer_sha256));
    if (!offered)
        return refuse(AuthResult::Kind::bad_request, "algorithm_not_offered");
    if (get("uri") != uri)
        return refuse(AuthResult::Kind::bad_request, "uri_mismatch");
    const std::string &nc_text = get("nc"), &cnonce = get("cnonce");
    if (get("qop") != "auth" || nc_text.size() != 8 || cnonce.empty() ||
        !std::all_of(nc_text.begin(), nc_text.end(), [](unsigned char c) { return std::isxdigit(c); }))
        return refuse(AuthResult::Kind::bad_request, "qop_auth_required");
    const std::uint64_t nc = std::stoull(nc_text, nullptr, 16);

    auth::Challenge issued;
    issued.realm = config_.realm;
    issued.nonce = nonce;
    issued.parsed_algorithm = *algorithm;
    issued.qop_auth = true;
    const auth::DigestAnswer answer{username, pending.aka ? pending.password : subscriber->password, method, uri,
                                    cnonce, static_cast<unsigned>(nc), {}};
    std::string response = get("response");
    std::transform(response.begin(), response.end(), response.begin(), [](unsigned char c) { return std::tolower(c); });
    const std::string& algorithm_text = get("algorithm");
    const bool known_ha1 = !pending.ha1.empty() && pending.ha1_user == username && pending.ha1_algorithm == algorithm_text;
    const std::string ha1 = known_ha1 ? pending.ha1 : auth::digest_ha1(issued, answer);
    const std::string expected = auth::digest_response_from_ha1(issued, answer, ha1);
    if (response.size() != expected.size() || CRYPTO_memcmp(response.data(), expected.data(), expected.size()) != 0) {
        pending_.erase(it); // no guessing against one nonce
        return fail(username, source, subscriber, "wrong_response");
    }
    if (!known_ha1 && !algorithm->session) {
        pending.ha1 = ha1;
        pending.ha1_user = username;
        pending.ha1_algorithm = algorithm_text;
    }
    // Checked after the response, so that only the nonce's owner learns of a replay.
    if (!mark_nc(pending, nc))
        return challenge(subscriber, false, "nonce_count_replay");
    AuthResult result;
    result.kind = AuthResult::Kind::accept;
    result.impi = subscriber->impi;
    result.algorithm = auth::digest_algorithm_name(*algorithm);
    return result;
}

} // namespace imsp2p::license
