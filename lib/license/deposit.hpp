// A publisher deposits a content key with the licence server
// (PUT /keys/KID, license_service.hpp), as swarm-publish --license-server does.
#pragma once

#include "license/client_credentials.hpp"

#include <cstdint>
#include <string>

namespace imsp2p::license {

struct DepositRequest {
    std::string server;      // http(s)://HOST[:PORT]
    std::string cacert;
    std::string kid_hex;
    std::string key_b64url;  // the content key (a secret)
    std::string content_id;
    std::string policy = "free";
    std::int64_t price = 0;
    double timeout = 10;
};

// The licence URL (SERVER/license). Failure(auth) when refused (403, 401),
// Failure(no_answer) when unreachable, Failure(negative) otherwise.
std::string deposit_key(const DepositRequest& request, const ClientCredentials& credentials);

} // namespace imsp2p::license
