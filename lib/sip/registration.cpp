#include "sip/registration.hpp"

#include "auth/digest_aka.hpp"
#include "util/base64.hpp"

#include "sip/sofia.hpp"
#include "sip/stack.hpp"
#include "sip/tls.hpp"

#include <fmt/format.h>
#include <sofia-sip/msg_addr.h>
#include <spdlog/spdlog.h>

#include <netdb.h>

#include <cstring>

namespace imsp2p::sip {
namespace {

constexpr unsigned max_requests_per_action = 5;

std::string unquote(std::string text)
{
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
        text = text.substr(1, text.size() - 2);
    if (text.size() >= 2 && text.front() == '<' && text.back() == '>')
        text = text.substr(1, text.size() - 2);
    return text;
}

std::string param(msg_param_t const* params, const char* name)
{
    const char* value = msg_params_find(params, name);
    return value ? unquote(value) : std::string();
}

// One element of a list header (Path, Service-Route, …) as text.
std::string element_text(su_home_t* home, const void* header)
{
    char* text = sip_header_as_string(home, static_cast<const sip_header_t*>(header));
    std::string out = text ? text : "";
    su_free(home, text);
    return out;
}

// Splits a header value at commas that are outside <…> and quotes.
std::vector<std::string> split_list(const std::string& value)
{
    std::vector<std::string> out;
    std::string current;
    bool quoted = false, bracketed = false;
    for (char c : value) {
        if (c == '"')
            quoted = !quoted;
        else if (c == '<' && !quoted)
            bracketed = true;
        else if (c == '>' && !quoted)
            bracketed = false;
        if (c == ',' && !quoted && !bracketed) {
            out.push_back(current);
            current.clear();
            continue;
        }
        current += c;
    }
    out.push_back(current);
    for (auto& item : out) {
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
    }
    std::erase(out, std::string());
    return out;
}

// Numeric host the response came from.
std::string response_source(nta_outgoing_s* orq)
{
    std::string out;
    msg_t* msg = nta_outgoing_getresponse(orq); // a reference: released below
    const su_addrinfo_t* ai = msg ? msg_addrinfo(msg) : nullptr;
    char host[NI_MAXHOST] = "";
    if (ai && ai->ai_addr &&
        getnameinfo(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen), host, sizeof host, nullptr, 0, NI_NUMERICHOST) == 0)
        out = host;
    if (msg)
        msg_destroy(msg);
    return out;
}

} // namespace

std::optional<auth::Challenge> pick_challenge(const msg_auth_t* list, bool proxy, std::string& unsupported)
{
    std::optional<auth::Challenge> best;
    for (const msg_auth_t* au = list; au; au = au->au_next) {
        if (!au->au_scheme || strcasecmp(au->au_scheme, "Digest") != 0)
            continue;
        auth::Challenge challenge;
        challenge.proxy = proxy;
        challenge.realm = param(au->au_params, "realm=");
        challenge.nonce = param(au->au_params, "nonce=");
        challenge.opaque = param(au->au_params, "opaque=");
        challenge.algorithm = param(au->au_params, "algorithm=");
        challenge.stale = strcasecmp(param(au->au_params, "stale=").c_str(), "true") == 0;
        for (const auto& qop : split_list(param(au->au_params, "qop=")))
            if (qop == "auth")
                challenge.qop_auth = true;
        auto algorithm = auth::parse_digest_algorithm(challenge.algorithm);
        if (!algorithm) {
            unsupported = challenge.algorithm;
            continue;
        }
        challenge.parsed_algorithm = *algorithm;
        if (!best || (algorithm->hash == auth::DigestHash::sha256 && best->parsed_algorithm.hash != auth::DigestHash::sha256))
            best = std::move(challenge);
    }
    return best;
}


Registration::Registration(SipStack& stack, RegistrationParams params)
    : stack_(stack), params_(std::move(params))
{
    su_home_t home[1] = {SU_HOME_INIT(home)};
    call_id_ = sip_call_id_create(home, nullptr)->i_id;
    from_ = fmt::format("<{}>;tag={}", params_.impu, nta_agent_newtag(home, "%s", stack_.agent()));
    su_home_deinit(home);
    password_ = params_.password;
    // RFC 3261 §10.2: one Call-ID per registrar, CSeq increasing from any start.
    cseq_ = 1;
}

Registration::~Registration()
{
    cancel();
}

void Registration::cancel()
{
    if (orq_) {
        nta_outgoing_destroy(orq_);
        orq_ = nullptr;
    }
}

void Registration::start(RegisterAction action, Done done)
{
    cancel();
    action_ = action;
    done_ = std::move(done);
    answered_fresh_challenge_ = false;
    resynchronised_ = false;
    requests_ = 0;
    started_ = std::chrono::steady_clock::now();
    send();
}

void Registration::send()
{
    std::string contact;
    switch (action_) {
    case RegisterAction::bind:
        contact = fmt::format("<{}>;expires={}", params_.contact, params_.expires);
        if (!params_.instance_id.empty())
            contact += fmt::format(";+sip.instance=\"<{}>\"", params_.instance_id);
        break;
    case RegisterAction::unbind:
        if (unbind_contacts_.empty())
            contact = fmt::format("<{}>;expires=0", params_.contact);
        for (const auto& uri : unbind_contacts_)
            contact += fmt::format("{}<{}>;expires=0", contact.empty() ? "" : ", ", uri);
        break;
    case RegisterAction::unbind_all:
        contact = "*";
        break;
    case RegisterAction::query:
        break;
    }

    std::string credentials;
    if (challenge_) {
        auth::DigestAnswer answer{params_.username, password_, "REGISTER", params_.registrar, cnonce_,
                                  ++nonce_count_, auts_};
        credentials = auth::digest_credentials(*challenge_, answer);
        auts_.clear();
    } else if (params_.initial_authorization) {
        // TS 24.229 §5.1.1.2: username is the IMPI, realm the home domain, nonce and response empty.
        const auto at = params_.impu.find('@');
        const std::string realm = at == std::string::npos ? params_.registrar.substr(4) : params_.impu.substr(at + 1);
        credentials = fmt::format("Digest username=\"{}\", realm=\"{}\", nonce=\"\", uri=\"{}\", response=\"\"",
                                  params_.username, realm, params_.registrar);
    }
    const bool proxy_auth = challenge_ && challenge_->proxy;
    const bool sec_agree = !params_.security_client.empty();
    const std::string security_client = sec_agree ? secagree::header_value(params_.security_client) : "";

    ++requests_;
    msg_t* msg = nta_msg_create(stack_.agent(), 0);
    sip_t* sip = sip_object(msg);
    su_home_t* mhome = msg_home(msg);
    const std::string to = "<" + params_.impu + ">";
    const bool built =
        msg && sip_header_insert(msg, sip, reinterpret_cast<sip_header_t*>(sip_request_create(
                                               mhome, SIP_METHOD_REGISTER, URL_STRING_MAKE(params_.registrar.c_str()), nullptr))) == 0 &&
        sip_add_tl(msg, sip, SIPTAG_FROM_STR(from_.c_str()), SIPTAG_TO_STR(to.c_str()), SIPTAG_CALL_ID_STR(call_id_.c_str()),
        SIPTAG_CSEQ(sip_cseq_create(mhome, cseq_++, SIP_METHOD_REGISTER)), SIPTAG_MAX_FORWARDS_STR("70"),
        TAG_IF(!contact.empty(), SIPTAG_CONTACT_STR(contact.c_str())),
        TAG_IF(action_ == RegisterAction::unbind_all, SIPTAG_EXPIRES_STR("0")),
        TAG_IF(!credentials.empty() && !proxy_auth, SIPTAG_AUTHORIZATION_STR(credentials.c_str())),
        TAG_IF(!credentials.empty() && proxy_auth, SIPTAG_PROXY_AUTHORIZATION_STR(credentials.c_str())),
        SIPTAG_SUPPORTED_STR(sec_agree ? "path, gruu, sec-agree" : "path, gruu"),
        TAG_IF(sec_agree, SIPTAG_SECURITY_CLIENT_STR(security_client.c_str())),
        TAG_IF(sec_agree, SIPTAG_REQUIRE_STR("sec-agree")), TAG_IF(sec_agree, SIPTAG_PROXY_REQUIRE_STR("sec-agree")),
        TAG_IF(!security_verify_.empty(), SIPTAG_SECURITY_VERIFY_STR(security_verify_.c_str())),
        TAG_IF(!params_.user_agent.empty(), SIPTAG_USER_AGENT_STR(params_.user_agent.c_str())), TAG_END()) == 0;
    if (built)
        orq_ = nta_outgoing_mcreate(stack_.agent(), &Registration::on_response_cb, this,
                                    params_.next_hop.empty() ? nullptr : URL_STRING_MAKE(params_.next_hop.c_str()), msg,
                                    TAG_END());
    if (!orq_) {
        if (msg)
            msg_destroy(msg);
        RegistrationResult result;
        result.outcome = Outcome::local;
        result.error = fmt::format("cannot send REGISTER for {} to {}", params_.impu,
                                   params_.next_hop.empty() ? params_.registrar : params_.next_hop);
        finish(std::move(result));
    }
}

int Registration::on_response_cb(Registration* self, nta_outgoing_s*, const sip_s* sip)
{
    return self->on_response(sip);
}

int Registration::on_response(const sip_s* sip)
{
    const int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq_);
    if (status < 200)
        return 0;
    // The transaction owns `sip`: destroy it only once the answer is handled.
    struct Destroy {
        nta_outgoing_t* orq;
        ~Destroy() { nta_outgoing_destroy(orq); }
    } finished{orq_};
    orq_ = nullptr;

    RegistrationResult result;
    result.status = status;
    result.phrase = sip && sip->sip_status && sip->sip_status->st_phrase ? sip->sip_status->st_phrase : "";
    result.call_id = call_id_;
    result.cseq = nta_outgoing_cseq(finished.orq);
    if (challenge_)
        result.algorithm = auth::digest_algorithm_name(challenge_->parsed_algorithm);
    const std::string where = params_.next_hop.empty() ? params_.registrar : params_.next_hop;

    if (!sip || nta_sip_is_internal(sip)) {
        // Generated by the transaction layer: nothing came back in time, or the transport failed.
        result.outcome = Outcome::no_answer;
        const std::string tls_failure = tls_failure_message(where);
        result.error = !tls_failure.empty() ? tls_failure
                       : status == 408
                           ? fmt::format("no answer from {} within {} s", where, stack_.config().transaction_timeout)
                           : fmt::format("cannot reach {}: {} {}", where, status, result.phrase);
        finish(std::move(result));
        return 0;
    }

    if ((status == 401 || status == 407) && requests_ < max_requests_per_action) {
        std::string unsupported;
        auto challenge = pick_challenge(status == 401 ? sip->sip_www_authenticate : sip->sip_proxy_authenticate,
                                        status == 407, unsupported);
        if (!challenge) {
            result.outcome = Outcome::auth;
            result.error = unsupported.empty()
                               ? fmt::format("{} {} from {} without a Digest challenge", status, result.phrase, where)
                               : fmt::format("{} asks for Digest algorithm {}, which is not supported", where, unsupported);
            finish(std::move(result));
            return 0;
        }
        if (challenge->parsed_algorithm.aka && !answer_aka(*challenge, result)) {
            finish(std::move(result));
            return 0;
        }
        if (!params_.security_client.empty() && status == 401 && !agreement_ && auts_.empty() && !agree(sip, finished.orq, where, result)) {
            finish(std::move(result));
            return 0;
        }
        if (answered_fresh_challenge_ && !challenge->stale) {
            result.outcome = Outcome::auth;
            result.error = fmt::format("{} rejected the credentials of {} ({} {} after authentication)", where,
                                       params_.username, status, result.phrase);
            finish(std::move(result));
            return 0;
        }
        challenge_ = std::move(challenge);
        cnonce_ = auth::make_cnonce();
        nonce_count_ = 0;
        // After AUTS the registrar challenges again with a fresh vector: expected.
        answered_fresh_challenge_ = auts_.empty();
        send();
        return 0;
    }
    if (status == 423 && sip->sip_min_expires && requests_ < max_requests_per_action) {
        spdlog::info("{}: interval too brief, retrying with expires {}", params_.impu, sip->sip_min_expires->me_delta);
        params_.expires = static_cast<unsigned>(sip->sip_min_expires->me_delta);
        send();
        return 0;
    }
    if (status == 420 && !params_.security_client.empty()) {
        result.outcome = Outcome::negative;
        result.error = fmt::format("{} does not support sec-agree ({} {})", where, status, result.phrase);
        finish(std::move(result));
        return 0;
    }
    if (status >= 300) {
        result.outcome = status == 403 || status == 401 || status == 407 ? Outcome::auth : Outcome::negative;
        result.error = fmt::format("{} answered {} {}", where, status, result.phrase);
        // What a caller needs to go elsewhere (core discovery follows them).
        if (status < 400) {
            su_home_t scratch[1] = {SU_HOME_INIT(scratch)};
            for (const sip_contact_t* contact = sip->sip_contact; contact; contact = contact->m_next)
                if (const char* uri = url_as_string(scratch, contact->m_url))
                    result.redirect.emplace_back(uri);
            su_home_deinit(scratch);
        }
        if (sip->sip_retry_after)
            result.retry_after = static_cast<unsigned>(sip->sip_retry_after->af_delta);
        finish(std::move(result));
        return 0;
    }
    parse_success(sip, result);
    finish(std::move(result));
    return 0;
}

void Registration::parse_success(const sip_s* sip, RegistrationResult& result)
{
    // Scratch for this answer only: a registration lives through thousands of
    // answers in load mode, and its own home must not grow with them.
    su_home_t scratch[1] = {SU_HOME_INIT(scratch)};
    struct Deinit {
        su_home_t* home;
        ~Deinit() { su_home_deinit(home); }
    } deinit{scratch};
    url_t* ours = url_make(scratch, params_.contact.c_str());
    const unsigned default_expires = sip->sip_expires ? static_cast<unsigned>(sip->sip_expires->ex_delta) : 0;
    for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
        Binding binding;
        char* uri = url_as_string(scratch, m->m_url);
        binding.uri = uri ? uri : "";
        const std::string expires = param(m->m_params, "expires=");
        binding.expires = expires.empty() ? default_expires : static_cast<unsigned>(std::strtoul(expires.c_str(), nullptr, 10));
        binding.instance = param(m->m_params, "+sip.instance=");
        binding.pub_gruu = param(m->m_params, "pub-gruu=");
        binding.temp_gruu = param(m->m_params, "temp-gruu=");
        binding.ours = (ours && url_cmp(m->m_url, ours) == 0) ||
                       (!params_.instance_id.empty() && binding.instance == params_.instance_id);
        if (binding.ours) {
            result.expires = binding.expires;
            result.pub_gruu = binding.pub_gruu;
            result.temp_gruu = binding.temp_gruu;
        }
        result.bindings.push_back(std::move(binding));
    }
    for (const sip_path_t* r = sip->sip_path; r; r = r->r_next)
        result.path.push_back(element_text(scratch, r));
    for (const sip_service_route_t* r = sip->sip_service_route; r; r = r->r_next)
        result.service_route.push_back(element_text(scratch, r));
    for (const sip_unknown_t* u = sip->sip_unknown; u; u = u->un_next)
        if (u->un_name && strcasecmp(u->un_name, "P-Associated-URI") == 0 && u->un_value)
            for (auto& uri : split_list(u->un_value))
                result.associated_uris.push_back(std::move(uri));
}

bool Registration::answer_aka(const auth::Challenge& challenge, RegistrationResult& result)
{
    const std::string name = auth::digest_algorithm_name(challenge.parsed_algorithm);
    result.outcome = Outcome::auth;
    if (!params_.usim) {
        result.error = fmt::format("the registrar asks for {}, but {} has no AKA credentials (k, op or opc)", name,
                                   params_.username);
        return false;
    }
    const auto nonce = auth::decode_aka_nonce(challenge.nonce);
    if (!nonce) {
        result.error = fmt::format("malformed {} nonce from the registrar (not base64 of RAND and AUTN)", name);
        return false;
    }
    const auto answer = params_.usim->authenticate(nonce->rand, nonce->autn);
    switch (answer.status) {
    case aka::Usim::Status::mac_failure:
        result.error = "the network failed authentication: MAC mismatch in AUTN (the registrar does not hold this "
                       "subscriber's K and OP)";
        return false;
    case aka::Usim::Status::sync_failure:
        if (resynchronised_) {
            result.error = "the registrar sent a stale SQN again after resynchronisation";
            return false;
        }
        spdlog::info("{}: SQN {} is not fresh, resynchronising", params_.impu, answer.sqn);
        resynchronised_ = true;
        password_.clear(); // RFC 3310 §3.4: the response uses an empty password
        auts_ = base64_encode(answer.auts.data(), answer.auts.size());
        break;
    case aka::Usim::Status::ok:
        password_ = auth::aka_password(challenge.parsed_algorithm.aka, answer.res, answer.ik, answer.ck);
        ck_ = answer.ck;
        ik_ = answer.ik;
        break;
    }
    result.outcome = Outcome::ok;
    return true;
}

bool Registration::agree(const sip_s* sip, nta_outgoing_s* orq, const std::string& where, RegistrationResult& result)
{
    result.outcome = Outcome::negative;
    if (!sip->sip_security_server) {
        result.error = fmt::format("{} answered 401 without Security-Server: it does not take part in sec-agree", where);
        return false;
    }
    std::vector<std::string> rejected;
    const auto offered = secagree::read_ipsec(sip->sip_security_server, &rejected);
    for (const auto& why : rejected)
        spdlog::warn("{}: Security-Server: {}", where, why);
    const auto chosen = secagree::select_server(offered, params_.security_client);
    if (!chosen) {
        result.error = fmt::format("no ipsec-3gpp entry of {}'s Security-Server matches the algorithms offered ({})", where,
                                   secagree::header_value(params_.security_client));
        return false;
    }
    if (!ck_ || !ik_) {
        result.error = fmt::format("sec-agree needs IMS AKA session keys, but {} challenged with plain Digest", where);
        return false;
    }
    secagree::Agreement agreement;
    agreement.pcscf = *chosen;
    agreement.ue = params_.security_client.front();
    agreement.ue.alg = chosen->alg;
    agreement.ue.ealg = chosen->ealg;
    agreement.ue.q.clear();
    agreement.keys = secagree::derive_esp_keys(chosen->alg, chosen->ealg, *ck_, *ik_);
    agreement.pcscf_address = response_source(orq);
    // RFC 3329 §2.3.1: Security-Verify repeats the server's list as received.
    su_home_t home[1] = {SU_HOME_INIT(home)};
    security_verify_.clear();
    for (const sip_security_server_t* sa = sip->sip_security_server; sa; sa = sa->sa_next) {
        sip_security_server_t copy = *sa;
        copy.sa_next = nullptr;
        const char* text = sip_header_as_string(home, reinterpret_cast<const sip_header_t*>(&copy));
        if (text)
            security_verify_ += (security_verify_.empty() ? "" : ", ") + std::string(text);
    }
    su_home_deinit(home);
    if (params_.on_security_agreed) {
        const std::string error = params_.on_security_agreed(agreement);
        if (!error.empty()) {
            result.outcome = Outcome::local;
            result.error = error;
            result.sec_agree = agreement;
            return false;
        }
    }
    agreement_ = std::move(agreement);
    result.outcome = Outcome::ok;
    return true;
}

void Registration::finish(RegistrationResult result)
{
    result.resynchronised = resynchronised_;
    result.ck = ck_;
    result.ik = ik_;
    if (agreement_)
        result.sec_agree = agreement_;
    result.transactions = requests_;
    result.latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
    result.call_id = call_id_;
    // `done` may destroy this object: nothing may touch members after the call.
    Done done = std::move(done_);
    if (done)
        done(result);
}

} // namespace imsp2p::sip
