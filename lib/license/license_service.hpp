// What the licence server answers, without HTTP plumbing (the HTTP front,
// http_front.hpp, only copies requests in and replies out), so
// unit tests can drive it directly.
//   POST /license      W3C Clear Key request -> Clear Key JWK set (DESIGN.md §4)
//   PUT  /keys/KIDHEX  a publisher deposits a content key and its policy
// Every request is authenticated first (HTTP Digest, http_auth.hpp), so that
// nothing, not even whether a KID exists, is told to an unknown caller.
#pragma once

#include "license/cdr_writer.hpp"
#include "license/http_auth.hpp"
#include "license/key_cache.hpp"
#include "license/key_wrap.hpp"
#include "license/license_db.hpp"
#include "swarm/clearkey_license.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

namespace imsp2p::license {

struct Request {
    std::string method, target, body;
    std::string authorization; // the Authorization header, "" when absent
    std::string request_id;    // the Request-Id header, "" when absent
    std::string source;        // the client's address, for the per-address throttle ("" : none)
};

struct Reply {
    int status = 500;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body; // JSON
};

struct ServiceStats {
    std::atomic<std::uint64_t> granted{0}, refused{0}, challenged{0};
};

class LicenseService {
public:
    LicenseService(HttpAuthenticator& auth, LicenseDb& db, CdrWriter& cdrs, const MasterKey& master);

    // `done` gets the reply: at once for refusals, from the CDR writer's
    // thread after the group commit for a licence.
    using Done = std::function<void(Reply)>;
    void handle(const Request& request, Done done);
    Reply handle(const Request& request); // the same, waited for
    const ServiceStats& stats() const { return stats_; }

private:
    struct Wanted {
        std::vector<Grant> grants;
        std::vector<swarm::LicenseKey> keys; // in the same order
    };
    void license(const Request& request, const AuthResult& verdict, Done done);
    std::variant<Wanted, Reply> prepare(const Request& request, const std::string& impi); // a refusal, or what to charge
    static Reply charged_reply(Charge charge, const std::vector<swarm::LicenseKey>& keys, std::int64_t price,
                               const std::string& impi, const std::string& request_id);
    Reply deposit(const Request& request, const std::string& impi, const std::string& kid_hex);
    // Counts and logs a reply about to be sent.
    void conclude(const Reply& reply, bool is_license, const std::string& method, const std::string& target,
                  const std::string& impi, const std::string& algorithm);

    HttpAuthenticator& auth_;
    LicenseDb& db_;       // deposits, one at a time (under db_mutex_)
    std::mutex db_mutex_;
    LicenseDbPool readers_; // licences: a connection per concurrent request
    CdrWriter& cdrs_;
    const MasterKey& master_;
    KeyCache keys_;
    ServiceStats stats_;
};

// The error body every refusal carries: {"error":CODE,"message":TEXT}.
Reply error_reply(int status, const std::string& code, const std::string& message);

} // namespace imsp2p::license
