// The server side of SIP Digest (RFC 3261 §22, RFC 7616, RFC 8760) and Digest
// AKA (RFC 3310, RFC 4169) for the registrar: issues challenges, remembers
// them by nonce, and checks the answers. No SIP here, so that it can be tested
// without sockets.
//
// Pending challenges are bounded: each lives `nonce_lifetime`, and beyond
// `max_pending` the oldest is forgotten. Nonces carry a MAC under a key of
// this process, so a nonce of ours that was forgotten is told from a foreign
// one (the first gets stale=true).
#pragma once

#include "aka/milenage.hpp"
#include "hss/subscriber_store.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace imsp2p::core {

struct AuthConfig {
    std::string realm;                       // the home domain
    unsigned ind = 0;                        // this node's IND (TS 33.102 Annex C)
    int aka_version = 1;                     // 1: AKAv1-MD5, 2: AKAv2-MD5
    bool offer_sha256 = false;               // md5 subscribers: a SHA-256 challenge before the MD5 one
    std::chrono::seconds nonce_lifetime{30};
    std::size_t max_pending = 100'000;
};

// The Digest parameters of an Authorization header, without quotes.
struct Credentials {
    std::string username, realm, nonce, uri, response, algorithm, cnonce, nc, qop, auts;
};

struct Verdict {
    enum class Kind {
        accept,      // right answer: go on with the request
        challenge,   // 401 with `challenges`
        reject,      // 403
        bad_request, // 400: the credentials cannot be read
    };
    Kind kind = Kind::challenge;
    std::vector<std::string> challenges; // WWW-Authenticate values, in order of preference
    std::string reason;    // snake_case cause for events and logs, e.g. wrong_response, stale_nonce
    std::string algorithm; // of an accepted answer, e.g. MD5, AKAv1-MD5
    bool resynchronised = false; // a valid AUTS moved SEQ forward (with a challenge)
    std::uint64_t seq_ms = 0;    // then: the UE's SEQ it moved to
};

class Authenticator {
public:
    using SteadyClock = std::chrono::steady_clock;

    Authenticator(hss::SubscriberStore& store, AuthConfig config,
                  std::function<SteadyClock::time_point()> clock = SteadyClock::now);

    // A fresh challenge for `subscriber`; an AKA one takes the store's next SQN.
    Verdict challenge(const hss::Record& subscriber, bool stale = false, std::string reason = "no_credentials");
    // Checks the answer of a request with `method` from `subscriber` (found by
    // the credentials' username). An initial request (TS 24.229: empty nonce
    // and response) gets a challenge.
    Verdict verify(const hss::Record& subscriber, const Credentials& credentials, const std::string& method);

    void purge();  // forgets expired challenges
    std::size_t pending() const { return pending_.size(); }
    const AuthConfig& config() const { return config_; }

private:
    struct Pending {
        std::string impi;
        std::string password;      // the Digest password: md5's, or derived from the AKA vector (a secret)
        aka::Block rand{};         // AKA: the RAND of the vector, for AUTS
        bool aka = false;
        SteadyClock::time_point expires;
        std::uint64_t last_nc = 0; // highest nonce count accepted
    };

    std::string sign(const std::string& payload) const; // payload ‖ MAC
    bool ours(const std::string& nonce) const;
    void remember(const std::string& nonce, Pending pending);
    Verdict resynchronise(const hss::Record& subscriber, const Pending& pending, const std::string& auts);

    hss::SubscriberStore& store_;
    AuthConfig config_;
    std::function<SteadyClock::time_point()> clock_;
    std::string key_; // MAC key of this process's nonces
    std::unordered_map<std::string, Pending> pending_;
    std::deque<std::pair<SteadyClock::time_point, std::string>> order_; // oldest first
};

} // namespace imsp2p::core
