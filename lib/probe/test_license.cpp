#include "probe/test_license.hpp"

#include "license/license_client.hpp"
#include "license/license_request.hpp"
#include "swarm/clearkey_license.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

namespace imsp2p::probe {

void check_test_license(const LicenseProbeOptions& options)
{
    if (options.credentials.impi.empty())
        throw Failure(Outcome::usage, "license: --kid and credentials need --impi ID (the identity to ask a test licence as)");
    if (!options.kid.empty() && !license::kid_from_hex(options.kid))
        throw Failure(Outcome::usage, fmt::format("license: invalid --kid '{}': give 32 hex digits", options.kid));
    license::resolve_credentials(options.credentials);
}

std::string test_license(const LicenseProbeOptions& options, const std::string& server, ProbeResult& result)
{
    const bool reserved = options.kid.empty();
    const auto kid = *license::kid_from_hex(reserved ? reserved_kid : options.kid);
    const auto& impi = options.credentials.impi;
    nlohmann::json fields{{"impi", impi}, {"kid", reserved ? reserved_kid : options.kid}, {"reserved_kid", reserved}};
    auto fail = [&](Outcome outcome, const std::string& why) {
        result.outcome = outcome;
        result.error = "test licence: " + why;
        fields["error"] = why;
    };

    license::LicenseClient client(server, license::resolve_credentials(options.credentials), options.timeout, options.ca_file);
    const auto started = std::chrono::steady_clock::now();
    license::HttpAnswer answer;
    try {
        answer = license::request_license(client, {kid}, license::new_request_id());
    } catch (const Failure& failure) {
        fail(failure.outcome(), failure.what());
        result.fields["test_license"] = fields;
        result.detail += fmt::format("  test licence as {}: {}\n", impi, failure.what());
        return "test licence failed";
    }
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
    const bool challenged = !answer.algorithm.empty();
    fields["http_status"] = answer.status;
    fields["challenge_answered"] = challenged;
    fields["algorithm"] = answer.algorithm;
    fields["latency_ms"] = std::round(ms * 1000) / 1000;
    result.metric("license_ms", ms);

    std::string verdict;
    bool key_present = false;
    if (!challenged && (answer.status == 200 || answer.status == 404)) {
        // The server granted or refused without knowing who asked.
        verdict = "no authentication asked";
        fail(Outcome::negative, fmt::format("{} answered HTTP {} without a Digest challenge: its AAA path was not exercised",
                                            server, answer.status));
    } else if (answer.status == 200) {
        try {
            key_present = swarm::find_key(swarm::parse_license(answer.body, server), kid).has_value();
        } catch (const Failure& failure) {
            fail(Outcome::negative, failure.what());
        }
        if (result.error.empty() && !key_present)
            fail(Outcome::negative, fmt::format("{} granted no key for KID {}", server, fields["kid"].get<std::string>()));
        verdict = key_present ? "granted, key present" : "granted WITHOUT the key";
    } else if (answer.status == 404 && reserved) {
        verdict = "authenticated; the reserved KID is unknown, as expected";
    } else {
        const auto refused = license::refusal(answer, server, impi);
        fail(refused.outcome(), refused.what());
        verdict = fmt::format("refused: {}", refused.what());
    }
    fields["key_present"] = key_present;
    fields["verdict"] = verdict;
    result.fields["test_license"] = fields;
    result.detail += fmt::format("  test licence as {} for KID {}{}: HTTP {} in {:.2f} ms{}, {}\n", impi,
                                 fields["kid"].get<std::string>(), reserved ? " (reserved)" : "", answer.status, ms,
                                 challenged ? fmt::format(", Digest {} challenge answered", answer.algorithm) : ", no challenge",
                                 verdict);
    if (!result.error.empty())
        return "test licence failed";
    return fmt::format("test licence {} in {:.1f} ms", key_present ? "granted" : "authenticated", ms);
}

} // namespace imsp2p::probe
