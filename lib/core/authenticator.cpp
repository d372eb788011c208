#include "core/authenticator.hpp"

#include "aka/aka.hpp"
#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "cli/outcome.hpp"
#include "util/base64.hpp"
#include "util/hmac.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace imsp2p::core {
namespace {

constexpr std::size_t mac_size = 8; // enough to tell our nonces from others, not a secret's protection

Verdict refuse(Verdict::Kind kind, std::string reason)
{
    Verdict verdict;
    verdict.kind = kind;
    verdict.reason = std::move(reason);
    return verdict;
}

std::string challenge_value(const std::string& realm, const std::string& nonce, const std::string& algorithm, bool stale)
{
    return fmt::format("Digest realm=\"{}\", nonce=\"{}\", qop=\"auth\", algorithm={}{}", realm, nonce, algorithm,
                       stale ? ", stale=true" : "");
}

} // namespace

Authenticator::Authenticator(hss::SubscriberStore& store, AuthConfig config, std::function<SteadyClock::time_point()> clock)
    : store_(store), config_(std::move(config)), clock_(std::move(clock)), key_(random_bytes(32))
{
}

std::string Authenticator::sign(const std::string& payload) const
{
    return hmac_sha256(key_, payload).substr(0, mac_size);
}

bool Authenticator::ours(const std::string& nonce) const
{
    const auto bytes = base64_decode(nonce);
    if (!bytes || bytes->size() <= mac_size)
        return false;
    const std::string payload(bytes->begin(), bytes->end() - mac_size);
    const std::string expected = sign(payload);
    return CRYPTO_memcmp(expected.data(), bytes->data() + payload.size(), mac_size) == 0;
}

void Authenticator::purge()
{
    const auto now = clock_();
    while (!order_.empty() && order_.front().first <= now) {
        pending_.erase(order_.front().second);
        order_.pop_front();
    }
}

void Authenticator::remember(const std::string& nonce, Pending pending)
{
    purge();
    // Answered or refused challenges leave their place in order_ until they
    // would have expired: capping order_ caps both.
    while (order_.size() >= config_.max_pending) {
        pending_.erase(order_.front().second);
        order_.pop_front();
    }
    order_.emplace_back(pending.expires, nonce);
    pending_.emplace(nonce, std::move(pending));
}

Verdict Authenticator::challenge(const hss::Record& subscriber, bool stale, std::string reason)
{
    Verdict verdict;
    verdict.kind = Verdict::Kind::challenge;
    verdict.reason = std::move(reason);
    Pending pending;
    pending.impi = subscriber.impi;
    pending.expires = clock_() + config_.nonce_lifetime;
    std::string nonce;
    if (subscriber.auth == subscriber::AuthScheme::aka) {
        const aka::Milenage milenage(subscriber.k, subscriber.opc);
        const auto vector = aka::generate_vector(milenage, subscriber.amf, store_.take_next_sqn(subscriber.impi, config_.ind));
        std::string rand_autn(vector.rand.begin(), vector.rand.end());
        rand_autn.append(vector.autn.begin(), vector.autn.end());
        nonce = auth::encode_aka_nonce(vector.rand, vector.autn, sign(rand_autn));
        pending.password = auth::aka_password(config_.aka_version, vector.xres, vector.ik, vector.ck);
        pending.rand = vector.rand;
        pending.aka = true;
        verdict.challenges.push_back(
            challenge_value(config_.realm, nonce, config_.aka_version == 2 ? "AKAv2-MD5" : "AKAv1-MD5", stale));
    } else {
        const std::string payload = random_bytes(16);
        nonce = base64_encode(payload + sign(payload));
        pending.password = subscriber.password;
        // RFC 8760 §2.4: the preferred algorithm first.
        if (config_.offer_sha256)
            verdict.challenges.push_back(challenge_value(config_.realm, nonce, "SHA-256", stale));
        verdict.challenges.push_back(challenge_value(config_.realm, nonce, "MD5", stale));
    }
    remember(nonce, std::move(pending));
    return verdict;
}

Verdict Authenticator::resynchronise(const hss::Record& subscriber, const Pending& pending, const std::string& auts_text)
{
    const auto bytes = base64_decode(auts_text);
    aka::Auts auts{};
    if (!bytes || bytes->size() != auts.size())
        return refuse(Verdict::Kind::reject, "malformed_auts");
    std::copy(bytes->begin(), bytes->end(), auts.begin());
    const auto sqn_ms = aka::verify_auts(aka::Milenage(subscriber.k, subscriber.opc), pending.rand, auts);
    if (!sqn_ms)
        return refuse(Verdict::Kind::reject, "auts_mac_mismatch");
    const std::uint64_t seq_ms = aka::seq_of(*sqn_ms);
    store_.resync(subscriber.impi, seq_ms);
    Verdict verdict = challenge(subscriber, false, "resync");
    verdict.resynchronised = true;
    verdict.seq_ms = seq_ms;
    return verdict;
}

Verdict Authenticator::verify(const hss::Record& subscriber, const Credentials& credentials, const std::string& method)
{
    purge();
    if (credentials.nonce.empty() || (credentials.response.empty() && credentials.auts.empty()))
        return challenge(subscriber, false, "no_credentials");
    // Every nonce this node makes is base64; anything else cannot be answered.
    if (!base64_decode(credentials.nonce))
        return refuse(Verdict::Kind::bad_request, "malformed_nonce");
    const auto it = pending_.find(credentials.nonce);
    if (it == pending_.end() || it->second.impi != subscriber.impi) {
        // Ours but forgotten (expired or evicted): stale, the client retries
        // without asking its user (RFC 7616 §3.3).
        const bool stale = it == pending_.end() && ours(credentials.nonce);
        return challenge(subscriber, stale, stale ? "stale_nonce" : "unknown_nonce");
    }
    // Each outcome below but acceptance ends the challenge: no guessing
    // against one nonce, and a later attempt starts afresh.
    const Pending pending = it->second;
    if (pending.aka && !credentials.auts.empty()) {
        pending_.erase(it);
        return resynchronise(subscriber, pending, credentials.auts);
    }

    const auto algorithm = auth::parse_digest_algorithm(credentials.algorithm);
    const bool offered = algorithm && !algorithm->session &&
                         (pending.aka ? algorithm->aka == config_.aka_version
                                      : !algorithm->aka && (algorithm->hash == auth::DigestHash::md5 || config_.offer_sha256));
    if (!offered) {
        pending_.erase(it);
        return refuse(Verdict::Kind::reject, "algorithm_not_offered");
    }

    auth::Challenge issued;
    issued.realm = config_.realm;
    issued.nonce = credentials.nonce;
    issued.parsed_algorithm = *algorithm;
    auth::DigestAnswer answer{credentials.username, pending.password, method, credentials.uri, credentials.cnonce, 0, {}};
    std::uint64_t nc = 0;
    if (credentials.qop == "auth") {
        const bool hex = credentials.nc.size() == 8 && std::all_of(credentials.nc.begin(), credentials.nc.end(), ::isxdigit);
        if (!hex || credentials.cnonce.empty()) {
            pending_.erase(it);
            return refuse(Verdict::Kind::bad_request, "malformed_nonce_count");
        }
        nc = std::stoull(credentials.nc, nullptr, 16);
        issued.qop_auth = true;
        answer.nonce_count = static_cast<unsigned>(nc);
    } else if (!credentials.qop.empty()) {
        pending_.erase(it);
        return refuse(Verdict::Kind::bad_request, "qop_not_offered");
    } else {
        nc = 1; // RFC 2069 style, without qop: the nonce serves once
    }
    if (nc <= pending.last_nc) {
        // A replayed answer, or reuse without qop: ask again.
        pending_.erase(it);
        return challenge(subscriber, false, "nonce_count_replay");
    }

    std::string response = credentials.response;
    std::transform(response.begin(), response.end(), response.begin(), ::tolower);
    const std::string expected = auth::digest_response(issued, answer);
    if (response.size() != expected.size() || CRYPTO_memcmp(response.data(), expected.data(), expected.size()) != 0) {
        pending_.erase(it);
        return refuse(Verdict::Kind::reject, "wrong_response");
    }
    it->second.last_nc = nc;
    Verdict verdict;
    verdict.kind = Verdict::Kind::accept;
    verdict.algorithm = auth::digest_algorithm_name(*algorithm);
    return verdict;
}

} // namespace imsp2p::core
