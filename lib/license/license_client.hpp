// An HTTP(S) client that authenticates with HTTP Digest as an IMS
// subscriber: it names itself first (username, empty nonce: the server then
// picks AKA or a password scheme), answers the challenge (SHA-256 or MD5
// with a password, AKAv1-MD5 with the USIM, resynchronising with AUTS when
// the SQN is stale), and retries a request that got no answer at all.
#pragma once

#include "license/client_credentials.hpp"

#include <map>
#include <string>

namespace imsp2p::license {

struct HttpAnswer {
    int status = 0;
    std::string body;
    std::multimap<std::string, std::string> headers;
    std::string algorithm; // the Digest algorithm answered with, "" if none
};

class LicenseClient {
public:
    // `server`: http://HOST[:PORT] or https://HOST[:PORT] (Failure(usage) otherwise).
    // `cacert`: PEM file of the CA to check an https server with ("" : the system's).
    LicenseClient(const std::string& server, ClientCredentials credentials, double timeout, std::string cacert);

    // Failure(no_answer) when the server cannot be reached within the
    // timeout (after retries), Failure(auth) when the server is not
    // authentic (AKA MAC mismatch, TLS certificate), or cannot be answered.
    HttpAnswer send(const std::string& method, const std::string& path, const std::string& body,
                    const std::multimap<std::string, std::string>& headers);

    const std::string& server() const { return server_; }

private:
    std::string server_;
    ClientCredentials credentials_;
    double timeout_;
    std::string cacert_;
};

} // namespace imsp2p::license
