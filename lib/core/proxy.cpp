#include "core/proxy.hpp"

#include "core/sip_request.hpp"
#include "hss/subscriber_store.hpp"
#include "sip/stack.hpp"

#include <fmt/format.h>
#include <sofia-sip/sip_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <map>

namespace imsp2p::core {

struct Proxy::Transaction {
    Proxy* proxy = nullptr;
    nta_incoming_s* server = nullptr; // null once the final answer went upstream
    nta_outgoing_s* client = nullptr;
    const sip_t* sip = nullptr;       // owned by server
    std::string method;
    std::string source;
    std::string target;               // the AOR resolved, or the URI forwarded to
    std::string next_hop;
    unsigned strip_routes = 0;        // how many top Routes name this node (two after a double Record-Route)
    bool cancelled = false;
};

namespace {

bool creates_dialog(sip_method_t method)
{
    return method == sip_method_invite || method == sip_method_subscribe || method == sip_method_refer;
}

int cancel_cb(nta_incoming_magic_t* magic, nta_incoming_t*, const sip_t* sip)
{
    auto* t = reinterpret_cast<Proxy::Transaction*>(magic);
    if (!sip || !sip->sip_request || sip->sip_request->rq_method != sip_method_cancel)
        return 0;
    t->cancelled = true;
    if (t->client)
        nta_outgoing_tcancel(t->client, nullptr, nullptr, TAG_END());
    return 200;
}

} // namespace

static int proxy_response_cb(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, const sip_t* sip)
{
    auto* t = reinterpret_cast<Proxy::Transaction*>(magic);
    t->proxy->on_response(t, orq, sip);
    return 0;
}

Proxy::Proxy(sip::SipStack& stack, hss::SubscriberStore& store, LocationService& location, ProxyConfig config, Events events)
    : stack_(stack),
      store_(store),
      location_(location),
      config_(std::move(config)),
      auth_(store, config_.auth),
      events_(std::move(events)),
      record_route_("<" + stack.contact_uri("") + ";lr>")
{
}

Proxy::~Proxy()
{
    for (auto& [raw, t] : transactions_) {
        if (t->client)
            nta_outgoing_destroy(t->client);
        if (t->server) {
            nta_incoming_treply(t->server, SIP_503_SERVICE_UNAVAILABLE, TAG_END());
            nta_incoming_destroy(t->server);
        }
    }
}

std::size_t Proxy::in_flight() const
{
    return transactions_.size();
}

bool Proxy::is_home(const std::string& host) const
{
    return strcasecmp(host.c_str(), config_.domain.c_str()) == 0 || host == stack_.local_host();
}

bool Proxy::names_this_node(const void* raw) const
{
    return stack_.names_us(raw);
}

// Record-Route with the transport each side reaches us by: TLS where the
// request came or goes over TLS, one entry per side when they differ (double
// Record-Route, RFC 5658), the one facing the next hop on top. The TLS entry
// is a sips: URI, not ;transport=tls: a sofia UA then answers with its sips:
// contact, so the dialog's later requests (BYE) stay on TLS as well.
void Proxy::record_route(msg_s* msg, sip_s* sip, bool in_tls, bool out_tls) const
{
    const std::string tls = stack_.tls_port() ? "<" + stack_.tls_uri("") + ";lr>" : record_route_;
    std::vector<std::string> sides{in_tls ? tls : record_route_};
    if (out_tls != in_tls)
        sides.push_back(out_tls ? tls : record_route_);
    for (const auto& side : sides) {
        sip_record_route_t* rr = sip_record_route_make(msg_home(msg), side.c_str());
        if (rr)
            msg_header_prepend(msg, reinterpret_cast<msg_pub_t*>(sip), reinterpret_cast<msg_header_t**>(&sip->sip_record_route),
                               reinterpret_cast<msg_header_t*>(rr));
    }
}

// Answers from the next hop: each goes upstream with our Via removed (RFC 3261
// §16.7); a final one ends the transaction. nta's own answers (408 timeout,
// 503 unreachable) are rebuilt, since they carry no Via of the sender.
void Proxy::on_response(Transaction* t, nta_outgoing_s* orq, const sip_s* sip)
{
    const int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
    if (!t->server || status == 100) // 100 is hop by hop: we sent our own
        return;
    if (sip && !nta_sip_is_internal(sip)) {
        msg_t* response = nta_outgoing_getresponse(orq);
        sip_via_remove(response, sip_object(response));
        nta_incoming_mreply(t->server, response);
    } else {
        const char* phrase = sip && sip->sip_status ? sip->sip_status->st_phrase : "No answer from the next hop";
        nta_incoming_treply(t->server, status, phrase, TAG_END());
    }
    if (status < 200)
        return;
    const auto held = transactions_.find(t);
    if (held == transactions_.end())
        return;
    const std::shared_ptr<Transaction> keep = held->second; // t lives until the end of this function
    transactions_.erase(held);
    nta_incoming_destroy(keep->server);
    keep->server = nullptr;
    nta_outgoing_destroy(keep->client);
    keep->client = nullptr;
    if (events_)
        events_({keep->method, keep->target, keep->next_hop, keep->source, status});
}

void Proxy::finish(Transaction& t, int status, const char* phrase)
{
    ++stats_.answered_locally;
    answer(t.server, status, phrase);
    ProxyEvent event{t.method, t.target, "", t.source, status};
    transactions_.erase(&t);
    if (events_)
        events_(event);
}

void Proxy::handle(nta_incoming_s* irq, const sip_s* sip)
{
    const sip_method_t method = sip->sip_request->rq_method;
    if (method == sip_method_cancel) {
        answer(irq, SIP_481_NO_TRANSACTION); // not one of ours: nta matched those already
        return;
    }
    if (!sip->sip_max_forwards || sip->sip_max_forwards->mf_count == 0) {
        if (sip->sip_max_forwards && method != sip_method_ack) {
            ++stats_.answered_locally;
            answer(irq, SIP_483_TOO_MANY_HOPS);
            return;
        }
    }
    if (transactions_.size() >= config_.max_transactions && method != sip_method_ack) {
        ++stats_.answered_locally;
        answer(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("5"));
        return;
    }
    auto t = std::make_shared<Transaction>();
    t->proxy = this;
    t->server = irq;
    t->sip = sip;
    t->method = sip->sip_request->rq_method_name;
    t->source = source_of(irq);
    for (const sip_route_t* r = sip->sip_route; r && names_this_node(r->r_url); r = r->r_next)
        ++t->strip_routes;
    transactions_[t.get()] = t;
    if (method != sip_method_ack)
        nta_incoming_bind(irq, &cancel_cb, reinterpret_cast<nta_incoming_magic_t*>(t.get()));
    try {
        const bool in_dialog = sip->sip_to && sip->sip_to->a_tag;
        Home home;
        const std::string from_host = sip->sip_from && sip->sip_from->a_url->url_host ? sip->sip_from->a_url->url_host : "";
        if (!in_dialog && method != sip_method_ack && is_home(from_host))
            check_origin(t, aor_of(home.home, sip->sip_from->a_url));
        else
            route(t);
    } catch (const std::exception& error) {
        spdlog::error("{} from {}: {}", t->method, t->source, error.what());
        finish(*t, SIP_500_INTERNAL_SERVER_ERROR);
    }
}

void Proxy::check_origin(const std::shared_ptr<Transaction>& t, const std::string& from)
{
    location_.lookup(from, [this, alive = std::weak_ptr<bool>(alive_), t, from](LocationResult result) {
        if (alive.expired() || !t->server)
            return;
        const bool registered = result.ok && !result.bindings.empty();
        const bool from_binding = registered && std::any_of(result.bindings.begin(), result.bindings.end(), [&](const Binding& b) {
                                      return source_address(b.received) == source_address(t->source);
                                  });
        try {
            if (from_binding)
                route(t);
            else
                authorise(t, from, registered);
        } catch (const std::exception& error) {
            spdlog::error("{} from {}: {}", t->method, t->source, error.what());
            finish(*t, SIP_500_INTERNAL_SERVER_ERROR);
        }
    });
}

void Proxy::authorise(const std::shared_ptr<Transaction>& t, const std::string& from, bool registered)
{
    t->target = from;
    Credentials credentials;
    const auto state = read_credentials(t->sip->sip_proxy_authorization, config_.auth.realm, credentials);
    if (state == CredentialState::unusable) {
        finish(*t, 400, "Unreadable Proxy-Authorization header");
        return;
    }
    const auto subscriber = state == CredentialState::digest
                                ? find_by_username(store_, credentials.username, config_.auth.realm)
                                : store_.find_by_impu(from);
    const bool owns_from = subscriber && std::any_of(subscriber->impus.begin(), subscriber->impus.end(),
                                                     [&](const std::string& impu) { return hss::impu_key(impu) == from; });
    if (!owns_from) {
        spdlog::info("{} from {} as {}: 403 ({})", t->method, t->source, from,
                     subscriber ? "the credentials are another subscriber's" : "no subscriber owns this identity");
        finish(*t, 403, "Forbidden identity");
        return;
    }
    const Verdict verdict = state == CredentialState::digest ? auth_.verify(*subscriber, credentials, t->method)
                                                             : auth_.challenge(*subscriber);
    switch (verdict.kind) {
    case Verdict::Kind::challenge:
        spdlog::debug("{} from {} as {}: challenged ({})", t->method, t->source, from, verdict.reason);
        challenge(*t, verdict.challenges);
        return;
    case Verdict::Kind::reject:
        spdlog::info("{} from {} as {}: 403 ({})", t->method, t->source, from, verdict.reason);
        finish(*t, 403, "Wrong credentials");
        return;
    case Verdict::Kind::bad_request:
        finish(*t, 400, "Malformed Digest parameters");
        return;
    case Verdict::Kind::accept:
        break;
    }
    if (!registered) {
        spdlog::info("{} from {} as {}: 403 (authenticated, but not registered)", t->method, t->source, from);
        finish(*t, 403, "Not registered");
        return;
    }
    route(t);
}

void Proxy::challenge(Transaction& t, const std::vector<std::string>& challenges)
{
    ++stats_.answered_locally;
    ++stats_.challenged;
    answer(t.server, SIP_407_PROXY_AUTH_REQUIRED, SIPTAG_PROXY_AUTHENTICATE_STR(challenges.at(0).c_str()),
           TAG_IF(challenges.size() > 1, SIPTAG_PROXY_AUTHENTICATE_STR(challenges.size() > 1 ? challenges[1].c_str() : nullptr)));
    ProxyEvent event{t.method, t.target, "", t.source, 407};
    transactions_.erase(&t);
    if (events_)
        events_(event);
}

void Proxy::route(const std::shared_ptr<Transaction>& t)
{
    const sip_t* sip = t->sip;
    Home home;
    const sip_route_t* next_route = sip->sip_route;
    for (unsigned i = 0; i < t->strip_routes; ++i)
        next_route = next_route->r_next;
    if (next_route) {
        t->target = url_text(home.home, next_route->r_url);
        forward(t, "", {});
        return;
    }
    const url_t* uri = sip->sip_request->rq_url;
    const std::string host = uri->url_host ? uri->url_host : "";
    if (!is_home(host) || !uri->url_user) {
        t->target = url_text(home.home, uri);
        std::string lower = host;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        const auto peer = config_.peers.find(lower);
        forward(t, "", {}, peer == config_.peers.end() ? std::string() : peer->second);
        return;
    }
    // Terminating: the identity's bindings, or those of its implicit set.
    t->target = aor_of(home.home, uri);
    const auto subscriber = store_.find_by_impu(t->target);
    std::vector<std::string> aors{t->target};
    if (subscriber)
        for (const auto& impu : subscriber->impus) {
            const std::string key = hss::impu_key(impu);
            if (key != t->target && key.rfind("sip", 0) == 0)
                aors.push_back(key);
        }
    // Not a subscriber's: maybe a public service identity published in the
    // location service (e.g. sip:drm@ims.test); else 404 (resolve() knows).
    resolve(t, aors, 0, subscriber.has_value());
}

void Proxy::resolve(const std::shared_ptr<Transaction>& t, std::vector<std::string> aors, std::size_t next, bool known,
                    bool again)
{
    if (next == aors.size()) {
        // A lookup can miss a value while the overlay's routing tables settle
        // (after churn): a subscriber's identities get one more round.
        if (known && !again) {
            resolve(t, std::move(aors), 0, known, true);
            return;
        }
        if (known)
            finish(*t, SIP_480_TEMPORARILY_UNAVAILABLE);
        else
            finish(*t, SIP_404_NOT_FOUND);
        return;
    }
    const std::string aor = aors[next];
    location_.lookup(aor, [this, alive = std::weak_ptr<bool>(alive_), t, aors = std::move(aors), next, known,
                           again](LocationResult result) {
        if (alive.expired() || !t->server)
            return;
        if (!result.ok) {
            finish(*t, 503, "Location service unavailable");
            return;
        }
        if (result.bindings.empty()) {
            resolve(t, aors, next + 1, known, again);
            return;
        }
        // The binding registered last (latest expiry) wins: no forking.
        const auto& binding = *std::max_element(result.bindings.begin(), result.bindings.end(),
                                                [](const Binding& a, const Binding& b) { return a.expires < b.expires; });
        forward(t, binding.contact, binding.path);
    });
}

void Proxy::forward(const std::shared_ptr<Transaction>& t, const std::string& request_uri, const std::vector<std::string>& path,
                    const std::string& via)
{
    msg_t* original = nta_incoming_getrequest(t->server);
    msg_t* msg = msg_dup(original); // the server transaction keeps its request as received
    msg_destroy(original);
    if (!msg) {
        finish(*t, SIP_500_INTERNAL_SERVER_ERROR);
        return;
    }
    sip_t* sip = sip_object(msg);
    su_home_t* home = msg_home(msg);
    if (sip->sip_max_forwards)
        sip->sip_max_forwards->mf_count--;
    else
        sip_add_tl(msg, sip, SIPTAG_MAX_FORWARDS_STR("70"), TAG_END());
    for (unsigned i = 0; i < t->strip_routes; ++i)
        sip_route_remove(msg, sip);
    // Path of the binding first (RFC 3327 §5.3), then what was already there.
    for (auto hop = path.rbegin(); hop != path.rend(); ++hop) {
        sip_route_t* route = sip_route_make(home, hop->c_str());
        if (route)
            msg_header_prepend(msg, reinterpret_cast<msg_pub_t*>(sip), reinterpret_cast<msg_header_t**>(&sip->sip_route),
                               reinterpret_cast<msg_header_t*>(route));
    }
    const sip_method_t method = sip->sip_request->rq_method;
    const bool in_dialog = sip->sip_to && sip->sip_to->a_tag;
    sip_request_t* rq = nullptr;
    if (!request_uri.empty())
        rq = sip_request_create(home, method, sip->sip_request->rq_method_name, URL_STRING_MAKE(request_uri.c_str()), nullptr);
    // The next hop: the first Route (loose routing), else the Request-URI.
    Home scratch;
    const url_t* hop = sip->sip_route ? sip->sip_route->r_url : rq ? rq->rq_url : sip->sip_request->rq_url;
    if (creates_dialog(method) && !in_dialog)
        record_route(msg, sip, sip::arrived_over_tls(t->sip), sip::wants_tls(hop));
    t->next_hop = via.empty() ? url_text(scratch.home, hop) : via;
    const std::string next_hop = t->next_hop;

    if (method == sip_method_ack) {
        // An ACK to a 2xx is a transaction of its own, answered by nobody:
        // forwarded statelessly (RFC 3261 §16.11). As a stateful UA, nta
        // would look up the INVITE the ACK belongs to and abort the process
        // when there is none (a stray or forged ACK).
        nta_outgoing_t* ack = nta_outgoing_mcreate(stack_.agent(), nullptr, nullptr, URL_STRING_MAKE(next_hop.c_str()), msg,
                                                   NTATAG_STATELESS(1), TAG_IF(rq, SIPTAG_REQUEST(rq)), TAG_END());
        if (ack)
            nta_outgoing_destroy(ack);
        else
            msg_destroy(msg);
        ++stats_.forwarded;
        nta_incoming_destroy(t->server);
        t->server = nullptr;
        transactions_.erase(t.get());
        return;
    }
    if (method == sip_method_invite)
        nta_incoming_treply(t->server, SIP_100_TRYING, TAG_END());
    t->client = nta_outgoing_mcreate(stack_.agent(), &proxy_response_cb, reinterpret_cast<nta_outgoing_magic_t*>(t.get()),
                                     URL_STRING_MAKE(next_hop.c_str()), msg, TAG_IF(rq, SIPTAG_REQUEST(rq)), TAG_END());
    if (!t->client) {
        msg_destroy(msg);
        spdlog::warn("{} from {}: cannot forward to {}", t->method, t->source, next_hop);
        finish(*t, 503, "Cannot forward");
        return;
    }
    ++stats_.forwarded;
    spdlog::debug("{} from {} for {}: forwarded to {}", t->method, t->source, t->target, next_hop);
}

} // namespace imsp2p::core
