// Challenges to INVITE and MESSAGE that nua's own Digest (MD5 from a
// password) cannot answer: IMS AKA (AKAv1-MD5, AKAv2-MD5) from the
// subscriber's USIM and SHA-256, computed with the code ims-register uses
// (lib/auth, pick_challenge), sent as a header of a new request.
#include "call/call_command.hpp"

#include "auth/digest_aka.hpp"
#include "sip/registration.hpp"
#include "ue/usim_state.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace imsp2p::call {

std::optional<std::string> own_authorization(const CallPlan& plan, const sip_t* response, const std::string& method,
                                             const std::string& uri, AuthState& state)
{
    const bool proxy = response && !response->sip_www_authenticate && response->sip_proxy_authenticate;
    const msg_auth_t* list = !response ? nullptr : proxy ? response->sip_proxy_authenticate : response->sip_www_authenticate;
    std::string unsupported;
    auto challenge = sip::pick_challenge(list, proxy, unsupported);
    if (!challenge)
        return std::nullopt; // nua's Digest, or auth_answer's precise refusal
    const auth::DigestAlgorithm algorithm = challenge->parsed_algorithm;
    if (!algorithm.aka && algorithm.hash == auth::DigestHash::md5)
        return std::nullopt; // MD5 from a password: nua answers it (auth_answer says when there is none)
    const std::string name = auth::digest_algorithm_name(algorithm);
    // Challenged again after answering: refused, unless the nonce was stale or we resynchronised.
    if (state.attempts >= 2 || (state.attempts == 1 && !challenge->stale && !state.resynchronising))
        throw Failure(Outcome::auth, fmt::format("credentials of {} refused ({}, realm \"{}\")", plan.impi, name, challenge->realm));
    ++state.attempts;
    auth::DigestAnswer answer;
    answer.username = plan.impi;
    answer.method = method;
    answer.uri = uri;
    answer.cnonce = auth::make_cnonce();
    if (algorithm.aka) {
        if (!plan.usim)
            throw Failure(Outcome::auth, fmt::format("challenged with {} but {} has no AKA credentials (an aka row of --subscribers)",
                                                     name, plan.impi));
        const auto nonce = auth::decode_aka_nonce(challenge->nonce);
        if (!nonce)
            throw Failure(Outcome::auth, fmt::format("malformed {} nonce (not base64 of RAND and AUTN)", name));
        const auto result = plan.usim->authenticate(nonce->rand, nonce->autn);
        state.resynchronising = false;
        switch (result.status) {
        case aka::Usim::Status::mac_failure:
            throw Failure(Outcome::auth, "the network failed authentication: MAC mismatch in AUTN (it does not hold this "
                                         "subscriber's K and OP)");
        case aka::Usim::Status::sync_failure:
            if (state.resynchronised)
                throw Failure(Outcome::auth, "the network sent a stale SQN again after resynchronisation");
            spdlog::info("{}: SQN {} is not fresh, resynchronising", plan.impi, result.sqn);
            state.resynchronised = state.resynchronising = true;
            state.attempts = 0;
            answer.auts = base64_encode(result.auts.data(), result.auts.size()); // RFC 3310 §3.4: empty password
            break;
        case aka::Usim::Status::ok:
            answer.password = auth::aka_password(algorithm.aka, result.res, result.ik, result.ck);
            break;
        }
        if (plan.usim_state)
            ue::save_usim_state(*plan.usim, plan.impi, *plan.usim_state);
    } else {
        if (plan.password.empty())
            throw Failure(Outcome::auth, fmt::format("challenged with {} for realm \"{}\" but no password was given", name,
                                                     challenge->realm));
        answer.password = plan.password;
    }
    return fmt::format("{}: {}", proxy ? "Proxy-Authorization" : "Authorization", auth::digest_credentials(*challenge, answer));
}

} // namespace imsp2p::call
