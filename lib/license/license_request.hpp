// The licence request of DESIGN.md §4 as every client sends it
// (license-fetch, overlay-probe's test licence), and what its refusals mean.
#pragma once

#include "cli/outcome.hpp"
#include "license/license_client.hpp"
#include "swarm/content_header.hpp"

#include <optional>
#include <string>
#include <vector>

namespace imsp2p::license {

// POST /license {"kids":[…],"type":"temporary"} with this Request-Id
// (the same id again is never charged twice). Failures as LicenseClient::send.
HttpAnswer request_license(LicenseClient& client, const std::vector<swarm::Kid>& kids, const std::string& request_id);

// 32 hex digits as a KID; nullopt otherwise.
std::optional<swarm::Kid> kid_from_hex(const std::string& text);

// A fresh random Request-Id (32 hex digits).
std::string new_request_id();

// The server's {"error":…} code of an answer, "" when it has none.
std::string error_code(const HttpAnswer& answer);

// What a non-200 answer means, as license-fetch reports it: 401 auth
// (credentials of `impi` rejected), 402 negative, 403 auth, 404 negative
// (unknown KID), 429 auth (throttled), others negative; with the server's message.
Failure refusal(const HttpAnswer& answer, const std::string& server, const std::string& impi);

} // namespace imsp2p::license
