// ims-call's runs: originate a call, send a MESSAGE, or answer calls.
#pragma once

#include "call/call_options.hpp"
#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "call/rtp.hpp"
#include "call/user_agent.hpp"

#include <memory>
#include <optional>
#include <string>

namespace imsp2p::call {

// Dispatches on the mode of the plan. Throws Failure on every failure, after
// printing the call's result.
Outcome run_call_command(const CallOptions& options, cli::Output& out);

Outcome run_originate(const CallPlan& plan, const CallOptions& options, cli::Output& out);
Outcome run_message(const CallPlan& plan, const CallOptions& options, cli::Output& out);
Outcome run_load(const CallPlan& plan, const CallOptions& options, cli::Output& out);
Outcome run_answer(const CallPlan& plan, const CallOptions& options, cli::Output& out);

// Shared by the modes.
UaConfig ua_config(const CallPlan& plan, const CallOptions& options);
// The user agent for a plan; a port taken from --registration that is in
// use (ims-register --keep still on it) falls back to any free port.
std::unique_ptr<UserAgent> make_user_agent(const CallPlan& plan, const CallOptions& options);
// "Digest:"realm":user:password" for NUTAG_AUTH, or a Failure(auth) explaining why not.
std::string auth_answer(const CallPlan& plan, const sip_t* challenge, int attempts);

// Why a request got an answer nta made itself (408, 503): the TLS failure
// when there was one, else "no answer from NEXT-HOP: STATUS PHRASE".
std::string no_answer_text(const CallPlan& plan, int status, const char* phrase);
// The same when --timeout ran out (nua may still be retrying a failed TLS connection).
std::string no_answer_within(const CallPlan& plan, double seconds);
std::string auth_answer(const Caller& caller, const sip_t* challenge, int attempts);
// What answering challenges to one request has done so far.
struct AuthState {
    int attempts = 0;
    bool resynchronising = false; // AUTS sent: the next challenge is the answer to it
    bool resynchronised = false;
};
// For a 401/407 nua cannot answer (AKAv1/v2-MD5, SHA-256): the
// "Authorization: ..." or "Proxy-Authorization: ..." header line for a new
// `method` request to `uri`; nullopt when nua answers it (MD5 with a
// password) or no challenge can be answered (auth_answer says why). Throws
// Failure(auth) when the credentials were refused or AKA fails.
std::optional<std::string> own_authorization(const CallPlan& plan, const sip_t* response, const std::string& method,
                                             const std::string& uri, AuthState& state);
// What a call's RTP sender sends: the --wav file or the tone (echo: what arrives).
AudioSource audio_source(const CallPlan& plan, const CallOptions& options);
// Route header value for the preloaded route, empty when none.
std::string route_header(const CallPlan& plan);

} // namespace imsp2p::call
