#include "core/registrar.hpp"

#include "core/sip_request.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"
#include "sip/uri.hpp"
#include "util/hex.hpp"
#include "util/hmac.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <sofia-sip/msg_addr.h>
#include <spdlog/spdlog.h>

#include <netdb.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace imsp2p::core {
namespace {

bool supports(const sip_t* sip, const char* option)
{
    return sip_has_supported(sip->sip_supported, option) != 0;
}

// Headers a REGISTER cannot be served without reading correctly.
const char* malformed_header(const sip_t* sip)
{
    // The chain can run into other headers (seen: a Max-Forwards after a
    // bare CR, found by tests/fuzz): stop at the first that is no error.
    for (const msg_error_t* error = sip->sip_error; error && error->er_common->h_class == sip_error_class;
         error = error->er_next)
        for (const char* name : {"To", "From", "Contact", "Authorization", "Expires", "Path", "Supported"})
            if (error->er_name && strcasecmp(error->er_name, name) == 0)
                return name;
    return nullptr;
}

// The Date header's time: the system clock's (sofia's su_now() follows the
// monotonic clock from the process start, sofia_init.cpp), in NTP seconds.
sip_time_t sip_date_of(Clock::time_point now)
{
    return static_cast<sip_time_t>(Clock::to_time_t(now) + 2208988800LL);
}

std::string seconds_left(Clock::time_point expires, Clock::time_point now)
{
    const auto left = std::chrono::ceil<std::chrono::seconds>(expires - now).count();
    return std::to_string(std::max<long long>(0, left));
}

} // namespace

// One request in progress: a REGISTER may wait for the location service.
struct Registrar::Request {
    nta_incoming_s* irq = nullptr; // null once answered
    const sip_t* sip = nullptr;    // owned by irq
    std::string source;
    std::string username;          // as given in the credentials
    hss::Record subscriber;
    std::string aor;
    std::string algorithm;
    struct Change {
        std::string contact;
        std::string instance;
        unsigned expires = 0;      // 0: remove
    };
    std::vector<Change> changes;
    bool remove_all = false;       // Contact: *
    bool gruu = false;             // the UE supports GRUU (RFC 5627)
    std::vector<std::string> path; // stored and echoed when the UE supports path
};

Registrar::Registrar(sip::SipStack& stack, hss::SubscriberStore& store, LocationService& location, RegistrarConfig config,
                     Events events)
    : store_(store),
      location_(location),
      config_(std::move(config)),
      events_(std::move(events)),
      auth_(store, config_.auth),
      gruu_key_(random_bytes(32)),
      service_route_("<" + stack.contact_uri("orig") + ";lr>"),
      tls_service_route_(stack.tls_port() ? "<" + stack.tls_uri("orig") + ";lr>" : service_route_)
{
    if (config_.sec_agree)
        sec_agree_.emplace(*config_.sec_agree);
}

Registrar::~Registrar() = default;

void Registrar::emit(RegistrarEvent event) const
{
    if (events_)
        events_(event);
}

void Registrar::handle(nta_incoming_s* irq, const sip_s* sip)
{
    auto request = std::make_shared<Request>();
    request->irq = irq;
    request->sip = sip;
    try {
        on_register(request);
    } catch (const std::exception& error) {
        spdlog::error("REGISTER from {}: {}", source_of(irq), error.what());
        answer(request->irq, SIP_500_INTERNAL_SERVER_ERROR);
    }
}

void Registrar::refuse(Request& request, int status, const char* phrase, const std::string& reason,
                       const char* security_server)
{
    RegistrarEvent event;
    event.kind = RegistrarEvent::Kind::auth_failed;
    event.impi = request.subscriber.impi.empty() ? request.username : request.subscriber.impi;
    event.impu = request.aor;
    event.source = request.source;
    event.status = status;
    event.reason = reason;
    spdlog::info("REGISTER of {} ({}) from {}: {} {} ({})", event.impu.empty() ? "?" : event.impu,
                 event.impi.empty() ? "no username" : event.impi, event.source, status, phrase, reason);
    answer(request.irq, status, phrase, TAG_IF(security_server, SIPTAG_SECURITY_SERVER_STR(security_server)),
           TAG_IF(security_server, SIPTAG_REQUIRE_STR("sec-agree")));
    emit(std::move(event));
}

void Registrar::on_register(const RequestPtr& request)
{
    const sip_t* sip = request->sip;
    Home home;
    request->source = source_of(request->irq);
    if (const char* name = malformed_header(sip)) {
        refuse(*request, 400, fmt::format("Malformed {} header", name).c_str(), "malformed_request");
        return;
    }
    if (!sip->sip_to || !sip->sip_call_id || !sip->sip_cseq) {
        refuse(*request, 400, "Missing To, Call-ID or CSeq", "malformed_request");
        return;
    }
    request->aor = aor_of(home.home, sip->sip_to->a_url);
    // RFC 3329 §2.2: a registrar that does not take part in sec-agree says so.
    if (!sec_agree_ && sip->sip_require && sip_has_feature(reinterpret_cast<const msg_list_t*>(sip->sip_require), "sec-agree")) {
        spdlog::info("REGISTER of {} from {}: 420, sec-agree required but not enabled (--sec-agree)", request->aor,
                     request->source);
        answer(request->irq, SIP_420_BAD_EXTENSION, SIPTAG_UNSUPPORTED_STR("sec-agree"));
        return;
    }

    Credentials credentials;
    const auto state = read_credentials(sip->sip_authorization, config_.auth.realm, credentials);
    if (state == CredentialState::unusable) {
        refuse(*request, 400, "Unreadable Authorization header", "malformed_credentials");
        return;
    }
    request->username = credentials.username;
    std::optional<hss::Record> subscriber;
    if (state == CredentialState::digest) {
        subscriber = find_by_username(store_, credentials.username, config_.auth.realm);
    } else if (!request->aor.empty()) {
        subscriber = store_.find_by_impu(request->aor);
    }
    // An unknown user is refused outright: a test network gains more from a
    // clear answer than it loses by telling who exists.
    if (!subscriber) {
        refuse(*request, SIP_403_FORBIDDEN, "unknown_user");
        return;
    }
    request->subscriber = std::move(*subscriber);
    const auto& impus = request->subscriber.impus;
    if (request->aor.empty() || std::none_of(impus.begin(), impus.end(), [&](const std::string& impu) {
            return hss::impu_key(impu) == request->aor;
        })) {
        refuse(*request, SIP_403_FORBIDDEN, "impu_not_owned");
        return;
    }

    const Verdict verdict = state == CredentialState::digest ? auth_.verify(request->subscriber, credentials, "REGISTER")
                                                             : auth_.challenge(request->subscriber);
    switch (verdict.kind) {
    case Verdict::Kind::reject:
        refuse(*request, SIP_403_FORBIDDEN, verdict.reason);
        return;
    case Verdict::Kind::bad_request:
        refuse(*request, 400, verdict.reason == "malformed_nonce" ? "Malformed nonce" : "Malformed Digest parameters",
               verdict.reason);
        return;
    case Verdict::Kind::challenge: {
        spdlog::debug("REGISTER of {} from {}: challenged ({})", request->aor, request->source, verdict.reason);
        const auto& c = verdict.challenges;
        const auto security_server = sec_agree_ ? sec_agree_->offer(sip) : std::nullopt;
        answer(request->irq, SIP_401_UNAUTHORIZED, SIPTAG_WWW_AUTHENTICATE_STR(c.at(0).c_str()),
               TAG_IF(c.size() > 1, SIPTAG_WWW_AUTHENTICATE_STR(c.size() > 1 ? c[1].c_str() : nullptr)),
               TAG_IF(security_server, SIPTAG_SECURITY_SERVER_STR(security_server ? security_server->c_str() : nullptr)),
               TAG_IF(security_server, SIPTAG_REQUIRE_STR("sec-agree")));
        if (verdict.resynchronised) {
            RegistrarEvent event;
            event.kind = RegistrarEvent::Kind::resync;
            event.impi = request->subscriber.impi;
            event.impu = request->aor;
            event.source = request->source;
            event.status = 401;
            event.seq_ms = verdict.seq_ms;
            emit(std::move(event));
        }
        return;
    }
    case Verdict::Kind::accept:
        request->algorithm = verdict.algorithm;
        break;
    }
    if (sec_agree_) {
        // RFC 3329 §2.3.1: the Security-Verify must repeat our Security-Server, or a
        // man in the middle may have downgraded the offer.
        const auto check = sec_agree_->check(sip);
        if (check == SecAgreeServer::Check::missing || check == SecAgreeServer::Check::mismatch) {
            const auto security_server = sec_agree_->offer(sip);
            refuse(*request, SIP_494_SECAGREE_REQUIRED, check_name(check), security_server ? security_server->c_str() : nullptr);
            return;
        }
    }

    if (!read_contacts(*request))
        return;
    location_.lookup(request->aor, then(request, [this, request](const LocationResult& current) { update(request, current); }));
}

bool Registrar::read_contacts(Request& request)
{
    const sip_t* sip = request.sip;
    Home home;
    std::size_t count = 0;
    bool star = false;
    for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
        ++count;
        star = star || m->m_url->url_type == url_any;
    }
    if (star) {
        // RFC 3261 §10.2.2: "*" alone, and only with Expires: 0.
        if (count > 1 || !sip->sip_expires || sip->sip_expires->ex_delta != 0) {
            refuse(request, 400, "Contact * needs Expires: 0 and no other Contact", "malformed_request");
            return false;
        }
        request.remove_all = true;
        return true;
    }
    if (count > config_.max_contacts) {
        refuse(request, 403, "Too many contacts", "too_many_contacts");
        return false;
    }
    for (const sip_contact_t* m = sip->sip_contact; m; m = m->m_next) {
        unsigned long expires = sip->sip_expires ? sip->sip_expires->ex_delta : config_.default_expires;
        if (m->m_expires) {
            const std::string text = m->m_expires;
            if (text.empty() || text.size() > 10 || !std::all_of(text.begin(), text.end(), ::isdigit)) {
                refuse(request, 400, "Invalid Contact expires", "malformed_request");
                return false;
            }
            expires = std::stoul(text);
        }
        if (expires != 0 && expires < config_.min_expires) {
            const std::string min = std::to_string(config_.min_expires);
            spdlog::info("REGISTER of {} from {}: expires {} below {}", request.aor, request.source, expires, min);
            answer(request.irq, SIP_423_INTERVAL_TOO_BRIEF, SIPTAG_MIN_EXPIRES_STR(min.c_str()));
            return false;
        }
        Request::Change change;
        change.contact = url_text(home.home, m->m_url);
        change.instance = param(m->m_params, "+sip.instance=");
        change.expires = static_cast<unsigned>(std::min<unsigned long>(expires, config_.max_expires));
        request.changes.push_back(std::move(change));
    }
    request.gruu = supports(sip, "gruu");
    if (supports(sip, "path"))
        for (const sip_path_t* r = sip->sip_path; r; r = r->r_next) {
            const char* text = sip_header_as_string(home.home, reinterpret_cast<const sip_header_t*>(r));
            if (text)
                request.path.emplace_back(text);
        }
    return true;
}

LocationService::Done Registrar::then(const RequestPtr& request, std::function<void(const LocationResult&)> step)
{
    return [alive = std::weak_ptr<bool>(alive_), request, step = std::move(step)](LocationResult result) {
        if (alive.expired() || !request->irq)
            return;
        try {
            if (!result.ok) {
                spdlog::warn("REGISTER of {}: location service: {}", request->aor, result.error);
                answer(request->irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("30"));
                return;
            }
            step(result);
        } catch (const std::exception& error) {
            spdlog::error("REGISTER of {}: {}", request->aor, error.what());
            answer(request->irq, SIP_500_INTERNAL_SERVER_ERROR);
        }
    };
}

void Registrar::update(const RequestPtr& request, const LocationResult& current)
{
    // RFC 3261 §10.3 step 7: within one Call-ID, an older CSeq must not undo a newer one.
    const std::string call_id = request->sip->sip_call_id->i_id;
    const std::uint32_t cseq = request->sip->sip_cseq->cs_seq;
    for (const auto& change : request->changes)
        for (const auto& binding : current.bindings)
            if (same_device(binding, change.contact, change.instance) && binding.call_id == call_id && cseq <= binding.cseq) {
                spdlog::info("REGISTER of {} from {}: CSeq {} not above {}", request->aor, request->source, cseq, binding.cseq);
                answer(request->irq, 500, "Out-of-order REGISTER");
                return;
            }
    apply(request, 0);
}

void Registrar::apply(const RequestPtr& request, std::size_t next)
{
    auto done = [this, request](const LocationResult& result) { registered(*request, result.bindings); };
    if (request->remove_all) {
        location_.unbind_all(request->aor, then(request, done));
        return;
    }
    if (next == request->changes.size()) {
        location_.lookup(request->aor, then(request, done));
        return;
    }
    const auto& change = request->changes[next];
    auto following = then(request, [this, request, next](const LocationResult&) { apply(request, next + 1); });
    if (change.expires == 0) {
        location_.unbind(request->aor, change.contact, change.instance, std::move(following));
        return;
    }
    Binding binding;
    binding.contact = change.contact;
    binding.expires = Clock::now() + std::chrono::seconds(change.expires);
    binding.instance = change.instance;
    binding.path = request->path;
    binding.call_id = request->sip->sip_call_id->i_id;
    binding.cseq = request->sip->sip_cseq->cs_seq;
    binding.received = request->source;
    location_.bind(request->aor, std::move(binding), std::move(following));
}

std::string Registrar::temp_gruu(const std::string& aor, const Binding& binding) const
{
    // RFC 5627 §3.2: opaque, and new with each Call-ID; derived, not stored.
    const std::string mac = hmac_sha256(gruu_key_, aor + '\n' + binding.instance + '\n' + binding.call_id).substr(0, 10);
    return fmt::format("sip:tgruu.{}@{};gr", to_hex(reinterpret_cast<const std::uint8_t*>(mac.data()), mac.size()),
                       config_.auth.realm);
}

void Registrar::registered(Request& request, const std::vector<Binding>& bindings)
{
    Home home;
    const auto now = Clock::now();
    std::string contacts;
    for (const auto& binding : bindings) {
        contacts += fmt::format("{}<{}>;expires={}", contacts.empty() ? "" : ", ", binding.contact,
                                seconds_left(binding.expires, now));
        if (binding.instance.empty())
            continue;
        contacts += fmt::format(";+sip.instance=\"{}\"", binding.instance);
        if (request.gruu) {
            std::string urn = binding.instance;
            if (urn.size() >= 2 && urn.front() == '<' && urn.back() == '>')
                urn = urn.substr(1, urn.size() - 2);
            contacts += fmt::format(";pub-gruu=\"{};gr={}\";temp-gruu=\"{}\"", request.aor, urn, temp_gruu(request.aor, binding));
        }
    }
    std::string associated;
    for (const auto& impu : request.subscriber.impus)
        associated += fmt::format("{}<{}>", associated.empty() ? "P-Associated-URI: " : ", ", impu);
    std::string path;
    for (const auto& hop : request.path)
        path += (path.empty() ? "" : ", ") + hop;

    answer(request.irq, SIP_200_OK, TAG_IF(!contacts.empty(), SIPTAG_CONTACT_STR(contacts.c_str())),
           SIPTAG_SERVICE_ROUTE_STR(sip::arrived_over_tls(request.sip) ? tls_service_route_.c_str() : service_route_.c_str()), TAG_IF(!path.empty(), SIPTAG_PATH_STR(path.c_str())),
           SIPTAG_HEADER_STR(associated.c_str()), SIPTAG_DATE(sip_date_create(home.home, sip_date_of(now))));

    const bool added = std::any_of(request.changes.begin(), request.changes.end(),
                                   [](const Request::Change& change) { return change.expires > 0; });
    if (!added && !request.remove_all && request.changes.empty())
        return; // a query
    RegistrarEvent event;
    event.kind = added ? RegistrarEvent::Kind::registered : RegistrarEvent::Kind::unregistered;
    event.impi = request.subscriber.impi;
    event.impu = request.aor;
    event.source = request.source;
    event.status = 200;
    event.algorithm = request.algorithm;
    event.bindings = bindings;
    emit(std::move(event));
}

} // namespace imsp2p::core
