#include "license/license_client.hpp"

#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "auth/digest_header.hpp"
#include "cli/outcome.hpp"
#include "ue/usim_state.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <regex>
#include <thread>

namespace imsp2p::license {
namespace {

using clock = std::chrono::steady_clock;

constexpr int max_challenges = 3; // a fresh one, a stale one, one after AUTS

// The challenge we can answer best: AKAv1 with a USIM; else SHA-256, then MD5.
std::optional<auth::Challenge> pick(const std::multimap<std::string, std::string>& headers, bool aka, std::string& offered)
{
    std::optional<auth::Challenge> best;
    const auto [first, last] = headers.equal_range("WWW-Authenticate");
    for (auto it = first; it != last; ++it) {
        const auto challenge = auth::parse_challenge(it->second);
        if (!challenge) {
            offered += (offered.empty() ? "" : ", ") + it->second.substr(0, it->second.find(' '));
            continue;
        }
        offered += (offered.empty() ? "" : ", ") + auth::digest_algorithm_name(challenge->parsed_algorithm);
        const auto& a = challenge->parsed_algorithm;
        if (!challenge->qop_auth || a.session || a.aka == 2 || (a.aka == 1) != aka)
            continue;
        if (!best || (a.hash == auth::DigestHash::sha256 && best->parsed_algorithm.hash == auth::DigestHash::md5))
            best = challenge;
    }
    return best;
}

} // namespace

LicenseClient::LicenseClient(const std::string& server, ClientCredentials credentials, double timeout, std::string cacert)
    : server_(server), credentials_(std::move(credentials)), timeout_(timeout), cacert_(std::move(cacert))
{
    static const std::regex url("https?://(\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?/?");
    if (!std::regex_match(server_, url))
        throw Failure(Outcome::usage, fmt::format("invalid --server '{}': give http://HOST[:PORT] or https://HOST[:PORT]", server_));
    if (server_.ends_with('/'))
        server_.pop_back();
}

HttpAnswer LicenseClient::send(const std::string& method, const std::string& path, const std::string& body,
                               const std::multimap<std::string, std::string>& extra)
{
    httplib::Client client(server_);
    const auto seconds = [](double s) { return std::pair<time_t, time_t>(static_cast<time_t>(s), static_cast<time_t>((s - static_cast<time_t>(s)) * 1e6)); };
    const auto [sec, usec] = seconds(timeout_);
    client.set_connection_timeout(sec, usec);
    client.set_read_timeout(sec, usec);
    client.set_write_timeout(sec, usec);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true); // no Nagle wait between the request's header and body writes
    if (server_.starts_with("https://")) {
        client.enable_server_certificate_verification(true);
        if (!cacert_.empty())
            client.set_ca_cert_path(cacert_);
    }

    // IMS style: name ourselves first, so the server challenges with our scheme.
    const std::string domain = credentials_.impi.find('@') == std::string::npos
                                   ? std::string()
                                   : credentials_.impi.substr(credentials_.impi.find('@') + 1);
    std::string authorization = fmt::format("Digest username=\"{}\", realm=\"{}\", nonce=\"\", uri=\"{}\", response=\"\"",
                                            credentials_.impi, domain, path);
    const auto deadline = clock::now() + std::chrono::duration<double>(timeout_);
    bool answered_fresh = false;
    HttpAnswer answer;
    for (int round = 0; round <= max_challenges; ++round) {
        httplib::Request request;
        request.method = method;
        request.path = path;
        request.body = body;
        request.headers = httplib::Headers(extra.begin(), extra.end());
        request.headers.emplace("Authorization", authorization);
        request.headers.emplace("Content-Type", "application/json");
        request.headers.emplace("Accept", "application/json");
        httplib::Result result = client.send(request);
        // No answer at all: the request may not have arrived, or its answer
        // was lost (a crash): resend it as it is, until the deadline.
        for (int attempt = 1; !result && clock::now() < deadline && attempt < 20; ++attempt) {
            if (result.error() == httplib::Error::SSLServerVerification || result.error() == httplib::Error::SSLLoadingCerts)
                break;
            spdlog::info("no answer from {} ({}): retrying", server_, httplib::to_string(result.error()));
            std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
            result = client.send(request);
            // A restarted server knows none of the old nonces: its new challenge is no refusal.
            answered_fresh = false;
        }
        if (!result) {
            const auto error = result.error();
            if (error == httplib::Error::SSLServerVerification || error == httplib::Error::SSLLoadingCerts)
                throw Failure(Outcome::auth, fmt::format("{}: the server's TLS certificate cannot be verified{}", server_,
                                                         cacert_.empty() ? " (give --cacert FILE)" : ""));
            throw Failure(Outcome::no_answer, fmt::format("no answer from {}: {}", server_, httplib::to_string(error)));
        }
        answer.status = result->status;
        answer.body = result->body;
        answer.headers.clear();
        for (const auto& [name, value] : result->headers)
            answer.headers.emplace(name, value);
        if (answer.status != 401)
            return answer;

        std::string offered;
        const auto challenge = pick(answer.headers, credentials_.usim != nullptr, offered);
        if (!challenge)
            throw Failure(Outcome::auth, fmt::format("{} asks for authentication that {} cannot give (offered: {})", server_,
                                                     credentials_.impi, offered.empty() ? "nothing" : offered));
        if (answered_fresh && !challenge->stale)
            return answer; // our answer was refused: wrong credentials
        auth::DigestAnswer digest{credentials_.impi, credentials_.password, method, path, auth::make_cnonce(), 1, {}};
        answered_fresh = true;
        if (challenge->parsed_algorithm.aka) {
            const auto nonce = auth::decode_aka_nonce(challenge->nonce);
            if (!nonce)
                throw Failure(Outcome::auth, fmt::format("{} sent a malformed AKAv1-MD5 nonce (not base64 of RAND and AUTN)", server_));
            const auto usim = credentials_.usim->authenticate(nonce->rand, nonce->autn);
            if (usim.status == aka::Usim::Status::mac_failure)
                throw Failure(Outcome::auth, fmt::format("{} failed AKA authentication: MAC mismatch in AUTN (it does not "
                                                         "hold the key of {})", server_, credentials_.impi));
            if (usim.status == aka::Usim::Status::sync_failure) {
                // RFC 3310 §3.4: AUTS with an empty password; a new challenge follows.
                digest.password.clear();
                digest.auts = base64_encode(usim.auts.data(), usim.auts.size());
                answered_fresh = false;
            } else {
                digest.password = auth::aka_password(1, usim.res, usim.ik, usim.ck);
            }
            if (credentials_.usim_state) {
                try {
                    ue::save_usim_state(*credentials_.usim, credentials_.impi, *credentials_.usim_state);
                } catch (const Failure& failure) {
                    spdlog::warn("{}", failure.what());
                }
            }
        }
        answer.algorithm = auth::digest_algorithm_name(challenge->parsed_algorithm);
        authorization = auth::digest_credentials(*challenge, digest);
    }
    return answer;
}

} // namespace imsp2p::license
