// ims-call's runs: originate a call, send a MESSAGE, or answer calls.
#pragma once

#include "call/call_options.hpp"
#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "call/user_agent.hpp"

#include <memory>
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
std::string auth_answer(const Caller& caller, const sip_t* challenge, int attempts);
// Route header value for the preloaded route, empty when none.
std::string route_header(const CallPlan& plan);

} // namespace imsp2p::call
