// One REGISTER client (RFC 3261 §10, TS 24.229 §5.1.1) on a SipStack: builds
// the request, answers Digest challenges (MD5 or SHA-256, qop=auth), retries
// on 423, and parses what the registrar returns. Used once by ims-register and
// thousands of times at once by its load mode.
#pragma once

#include "aka/aka.hpp"
#include "auth/digest.hpp"
#include "cli/outcome.hpp"
#include "secagree/agreement.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct nta_outgoing_s;
struct sip_s;
struct msg_auth_s;

namespace imsp2p::sip {

// The best Digest challenge of a WWW- or Proxy-Authenticate list that we can
// answer (SHA-256 before MD5, RFC 8760 order); nullopt when none, with the
// last algorithm we could not compute in `unsupported`.
std::optional<auth::Challenge> pick_challenge(const msg_auth_s* list, bool proxy, std::string& unsupported);

class SipStack;

struct RegistrationParams {
    std::string impu;          // public identity: From and To
    std::string registrar;     // Request-URI, e.g. sip:ims.test
    std::string next_hop;      // outbound proxy (P-CSCF) URI; empty: send to the registrar
    std::string username;      // private identity, the Digest username
    std::string password;
    std::shared_ptr<aka::Usim> usim; // AKA subscribers: answers AKAv1/AKAv2 challenges
    std::string contact;       // our contact URI, without <>
    std::string instance_id;   // +sip.instance, e.g. urn:uuid:…
    unsigned expires = 600;
    bool initial_authorization = true; // TS 24.229: first REGISTER carries an empty Authorization
    std::string user_agent;
    // sec-agree (RFC 3329, TS 24.229 §5.1.1.2): our ipsec-3gpp offer, one
    // entry per algorithm pair; empty: no sec-agree.
    std::vector<secagree::IpsecParams> security_client;
    // Called when a 401 brings the P-CSCF's Security-Server and AKA keys,
    // before the REGISTER that answers it: sets up the SAs (and may point
    // next_hop at the P-CSCF's protected port). A non-empty return is the
    // error that ends the registration (Outcome::local).
    std::function<std::string(secagree::Agreement&)> on_security_agreed;
};

enum class RegisterAction {
    bind,       // add or refresh our contact
    unbind,     // remove our contact (or the ones given by set_unbind_contacts)
    unbind_all, // Contact: *, removes every binding of the AOR
    query,      // no Contact: list the bindings
};

struct Binding {
    std::string uri;
    unsigned expires = 0;
    std::string instance;  // +sip.instance, empty when absent
    std::string pub_gruu;
    std::string temp_gruu;
    bool ours = false;     // our contact URI or our instance id
};

struct RegistrationResult {
    Outcome outcome = Outcome::ok;
    std::string error;      // why, when outcome is not ok
    int status = 0;
    std::string phrase;
    unsigned expires = 0;   // of our binding (bind)
    std::vector<Binding> bindings;
    std::vector<std::string> path;
    std::vector<std::string> service_route;
    std::vector<std::string> associated_uris; // P-Associated-URI
    std::string pub_gruu;
    std::string temp_gruu;
    std::string call_id;
    std::uint32_t cseq = 0;
    std::string algorithm;  // Digest algorithm answered; empty: not challenged
    bool resynchronised = false; // AKA: an SQN failure was answered with AUTS
    std::optional<aka::Block> ck, ik; // AKA: the session keys of the accepted challenge
    std::optional<secagree::Agreement> sec_agree;
    std::vector<std::string> redirect; // 3xx: the Contact URIs, in the order given (highest q first by our nodes)
    unsigned retry_after = 0; // Retry-After of a failure answer, seconds; 0: none
    double latency_ms = 0;  // first request sent → final response
    unsigned transactions = 0;
};

class Registration {
public:
    using Done = std::function<void(const RegistrationResult&)>;

    Registration(SipStack& stack, RegistrationParams params);
    ~Registration();
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;

    // Runs one action to its final answer, then calls `done` (which may destroy
    // this object). Call-ID and CSeq carry over from one action to the next,
    // and so does the last challenge, answered proactively with nc+1.
    void start(RegisterAction action, Done done);
    void cancel();
    // The next action starts without credentials, as an initial registration does.
    void forget_challenge() { challenge_.reset(); }
    bool busy() const { return orq_ != nullptr; }

    const RegistrationParams& params() const { return params_; }
    RegistrationParams& params() { return params_; }
    // Contacts that `unbind` removes (default: our contact).
    void set_unbind_contacts(std::vector<std::string> contacts) { unbind_contacts_ = std::move(contacts); }

private:
    static int on_response_cb(Registration* self, nta_outgoing_s* orq, const sip_s* sip);
    int on_response(const sip_s* sip);
    void send();
    void finish(RegistrationResult result);
    // Runs the USIM on an AKA challenge; false with `result` filled when it fails.
    bool answer_aka(const auth::Challenge& challenge, RegistrationResult& result);
    void parse_success(const sip_s* sip, RegistrationResult& result);
    // sec-agree on a 401: picks the Security-Server entry, derives the ESP
    // keys and runs the hook; false with `result` filled when it fails.
    bool agree(const sip_s* sip, nta_outgoing_s* orq, const std::string& where, RegistrationResult& result);

    SipStack& stack_;
    RegistrationParams params_;
    nta_outgoing_s* orq_ = nullptr;
    RegisterAction action_ = RegisterAction::bind;
    Done done_;
    std::vector<std::string> unbind_contacts_;
    std::optional<auth::Challenge> challenge_;
    std::string password_;                  // the Digest password: given, or derived by AKA
    std::string auts_;                      // base64 AUTS for the next request only
    bool resynchronised_ = false;
    std::optional<aka::Block> ck_, ik_;
    std::optional<secagree::Agreement> agreement_;
    std::string security_verify_;           // the P-CSCF's Security-Server, echoed from then on
    std::string cnonce_;
    unsigned nonce_count_ = 0;
    bool answered_fresh_challenge_ = false; // this action already answered a new challenge
    unsigned requests_ = 0;                 // in this action
    std::string call_id_;
    std::string from_;                      // with our tag
    std::uint32_t cseq_ = 0;
    std::chrono::steady_clock::time_point started_;
};

} // namespace imsp2p::sip
