// The server side of HTTP Digest for the licence server (RFC 7616 MD5 and
// SHA-256, RFC 3310 AKAv1-MD5) against hss::SubscriberStore, with a
// throttle of failed attempts per identity and per source address. Thread-safe:
// request threads call check() concurrently (one lock; the work under it is a
// few hashes: subscribers are read from SQLite once, then kept in memory, as
// the server imports them only at start).
//
// Unlike the SIP registrar's core::Authenticator, an HTTP client may come
// without any username (curl, browsers): such a request gets a challenge
// bound to no user, answerable by any md5 subscriber. A client that names
// itself first (IMS style: Authorization with username and an empty nonce,
// as license-fetch does) gets the challenge of its scheme: AKA for aka rows.
//
// A nonce serves many requests (qop=auth, rising nc, as RFC 7616 allows)
// until it expires; nc values are checked in a 256-wide window so that
// concurrent requests on one nonce may arrive out of order, while any nc
// seen before is refused as a replay.
#pragma once

#include "aka/aka.hpp"
#include "hss/subscriber_store.hpp"
#include "license/failure_throttle.hpp"

#include <bitset>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace imsp2p::license {

struct HttpAuthConfig {
    std::string realm;
    unsigned ind = 0;           // this server's IND for AKA SQNs
    bool offer_sha256 = true;   // SHA-256 challenge before the MD5 one
    std::chrono::seconds nonce_lifetime{300};
    std::size_t max_pending = 100'000;
    unsigned max_failures = 5;  // failed attempts per identity within failure_window before throttling
    unsigned max_address_failures = 20; // the same per source address (several users may share one)
    std::size_t max_tracked = 100'000;  // identities, and addresses, remembered at most (LRU)
    std::chrono::seconds failure_window{60};
    std::chrono::seconds block_time{60};
};

struct AuthResult {
    enum class Kind {
        accept,      // go on: `impi` is authenticated
        challenge,   // 401 with `challenges`
        bad_request, // 400: the credentials cannot be read
        throttled,   // 429: too many failures for this identity or from this address, retry after `retry_after_s`
    };
    Kind kind = Kind::challenge;
    std::vector<std::string> challenges;
    std::string impi;
    std::string reason;     // snake_case, for logs
    std::string algorithm;  // of an accepted answer
    long retry_after_s = 0;
    bool address_throttled = false; // throttled: the source address, not the identity
};

class HttpAuthenticator {
public:
    using Clock = std::chrono::steady_clock;

    HttpAuthenticator(hss::SubscriberStore& store, HttpAuthConfig config);

    // `authorization`: the Authorization header ("" when absent); `uri`: the
    // request target, which the credentials' uri must equal; `source`: the
    // client's address ("" when unknown: no per-address throttle).
    AuthResult check(const std::string& authorization, const std::string& method, const std::string& uri,
                     const std::string& source = {});

private:
    struct Pending {
        std::string impi;      // empty: a challenge bound to no user (md5 subscribers only)
        std::string password;  // AKA: RES (a secret)
        aka::Block rand{};
        bool aka = false;
        Clock::time_point expires;
        std::uint64_t top_nc = 0;  // highest nc accepted
        std::bitset<256> seen;     // bit i: nc top_nc - i accepted
        // HA1 of the last accepted answer (a secret, like the password), by
        // user and algorithm: the next request on this nonce hashes only the rest.
        std::string ha1, ha1_user, ha1_algorithm;
    };
    AuthResult challenge(const std::optional<hss::Record>& subscriber, bool stale, std::string reason);
    AuthResult fail(const std::string& identity, const std::string& source, const std::optional<hss::Record>& subscriber,
                    std::string reason);
    std::optional<hss::Record> find_subscriber(const std::string& impi);
    std::string sign(const std::string& payload) const;
    bool ours(const std::string& nonce) const;
    void purge(Clock::time_point now);
    static bool mark_nc(Pending& pending, std::uint64_t nc);

    hss::SubscriberStore& store_;
    HttpAuthConfig config_;
    std::string key_;
    std::mutex mutex_;
    std::unordered_map<std::string, Pending> pending_;
    std::deque<std::pair<Clock::time_point, std::string>> order_;
    std::unordered_map<std::string, hss::Record> subscribers_; // read from store_ once
    FailureThrottle identity_failures_, address_failures_;
};

} // namespace imsp2p::license
