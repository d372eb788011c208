#include "core/reg_event_server.hpp"

#include "core/sip_request.hpp"
#include "sip/reginfo.hpp"
#include "sip/stack.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace imsp2p::core {

struct RegEventServer::Subscription {
    std::string key;           // Call-ID + remote tag
    std::string aor;           // canonical
    std::string call_id;
    std::string local_tag;     // ours (To of the SUBSCRIBE, From of our NOTIFYs)
    std::string remote;        // the subscriber's From header value, tag included
    std::string target;        // its Contact URI: where NOTIFYs go
    std::string route;         // Record-Route of the SUBSCRIBE, in order (the route set)
    std::uint32_t cseq = 0;
    unsigned version = 0;
    Clock::time_point expires;
    std::map<std::string, Binding> known; // contact URI → binding, as last notified
    bool polling = false;      // a lookup of poll() is in flight
};

namespace {

// sofia's typed magic pointers are declared for the whole library (sip/sofia.hpp).
int notify_answer_cb(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, const sip_t* sip)
{
    const int status = sip && sip->sip_status ? sip->sip_status->st_status : nta_outgoing_status(orq);
    if (status >= 200)
        reinterpret_cast<RegEventServer*>(magic)->on_notify_answer(orq, status);
    return 0;
}

std::string header_text(su_home_t* home, const void* header)
{
    const char* text = sip_header_as_string(home, static_cast<const sip_header_t*>(header));
    return text ? text : "";
}

sip::ReginfoContact contact_state(const Binding& binding, const std::string& state, const std::string& event,
                                  std::chrono::system_clock::time_point now)
{
    sip::ReginfoContact contact;
    contact.id = fmt::format("{:x}", std::hash<std::string>{}(binding.contact + binding.instance));
    contact.uri = binding.contact;
    contact.state = state;
    contact.event = event;
    contact.expires = state == "active"
                          ? static_cast<unsigned>(std::max<long long>(
                                0, std::chrono::ceil<std::chrono::seconds>(binding.expires - now).count()))
                          : 0;
    return contact;
}

} // namespace

RegEventServer::RegEventServer(sip::SipStack& stack, LocationService& location, RegEventConfig config)
    : stack_(stack), location_(location), config_(config)
{
}

RegEventServer::~RegEventServer()
{
    for (const auto& [orq, key] : notifies_)
        nta_outgoing_destroy(orq);
}

void RegEventServer::handle(nta_incoming_s* irq, const sip_s* sip)
{
    if (!sip->sip_call_id || !sip->sip_from || !sip->sip_from->a_tag || !sip->sip_to || !sip->sip_contact) {
        answer(irq, 400, "Missing Call-ID, From tag, To or Contact");
        return;
    }
    const unsigned asked = sip->sip_expires ? static_cast<unsigned>(std::min<unsigned long>(sip->sip_expires->ex_delta, UINT32_MAX))
                                            : config_.default_expires;
    const unsigned expires = std::min(asked, config_.max_expires);
    if (sip->sip_to->a_tag) {
        const auto found = subscriptions_.find(std::string(sip->sip_call_id->i_id) + '/' + sip->sip_from->a_tag);
        if (found == subscriptions_.end() || found->second->local_tag != sip->sip_to->a_tag) {
            answer(irq, SIP_481_NO_TRANSACTION);
            return;
        }
        refresh(*found->second, irq, expires);
        return;
    }
    start(irq, sip, expires);
}

void RegEventServer::start(nta_incoming_s* irq, const sip_s* sip, unsigned expires)
{
    Home home;
    // TS 24.229 §5.1.1.3: the UE subscribes to its IMPU, the Request-URI.
    const std::string aor = aor_of(home.home, sip->sip_request->rq_url);
    const std::string source = source_of(irq);
    if (aor.empty()) {
        answer(irq, 400, "Bad Request-URI");
        return;
    }
    if (subscriptions_.size() >= config_.max_subscriptions) {
        answer(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("60"));
        return;
    }
    auto subscription = std::make_unique<Subscription>();
    subscription->aor = aor;
    subscription->call_id = sip->sip_call_id->i_id;
    subscription->key = subscription->call_id + '/' + sip->sip_from->a_tag;
    subscription->remote = header_text(home.home, sip->sip_from);
    subscription->target = url_text(home.home, sip->sip_contact->m_url);
    for (const sip_record_route_t* r = sip->sip_record_route; r; r = r->r_next)
        subscription->route += (subscription->route.empty() ? "" : ", ") + header_text(home.home, r);

    location_.lookup(aor, [this, alive = std::weak_ptr<bool>(alive_), irq, source,
                           subscription = std::shared_ptr<Subscription>(std::move(subscription)), expires](LocationResult result) mutable {
        if (alive.expired()) {
            nta_incoming_destroy(irq);
            return;
        }
        if (!result.ok) {
            answer(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR("30"));
            return;
        }
        const std::string ip = source_address(source);
        const bool allowed = std::any_of(result.bindings.begin(), result.bindings.end(),
                                         [&](const Binding& binding) { return source_address(binding.received) == ip; });
        if (!allowed) {
            spdlog::info("SUBSCRIBE to the registration state of {} from {}: 403 (not from a registered contact)",
                         subscription->aor, source);
            answer(irq, SIP_403_FORBIDDEN);
            return;
        }
        const char* tag = nta_incoming_tag(irq, nullptr);
        subscription->local_tag = tag ? tag : "";
        subscription->expires = Clock::now() + std::chrono::seconds(expires);
        const std::string expires_text = std::to_string(expires);
        const std::string contact = "<" + stack_.contact_uri("") + ">";
        answer(irq, SIP_200_OK, SIPTAG_EXPIRES_STR(expires_text.c_str()), SIPTAG_CONTACT_STR(contact.c_str()));
        spdlog::info("{} subscribed to the registration state of {} for {} s", source, subscription->aor, expires);
        // The subscription map owns it from here; a NOTIFY follows at once (RFC 6665 §4.2.1.2).
        auto owned = std::make_unique<Subscription>(std::move(*subscription));
        Subscription& stored = *owned;
        const std::string key = owned->key;
        subscriptions_[key] = std::move(owned);
        notify(stored, result.bindings, expires == 0 ? "timeout" : "", "");
    });
}

void RegEventServer::refresh(Subscription& subscription, nta_incoming_s* irq, unsigned expires)
{
    subscription.expires = Clock::now() + std::chrono::seconds(expires);
    const std::string expires_text = std::to_string(expires);
    answer(irq, SIP_200_OK, SIPTAG_EXPIRES_STR(expires_text.c_str()));
    const std::string key = subscription.key;
    location_.lookup(subscription.aor, [this, alive = std::weak_ptr<bool>(alive_), key, expires](LocationResult result) {
        if (alive.expired() || !result.ok)
            return;
        const auto found = subscriptions_.find(key);
        if (found != subscriptions_.end())
            notify(*found->second, result.bindings, expires == 0 ? "timeout" : "", "expired");
    });
}

void RegEventServer::bindings_changed(const std::string& aor, const std::vector<Binding>& bindings)
{
    for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
        Subscription& subscription = *(it++)->second; // notify() may end it
        if (subscription.aor == aor)
            notify(subscription, bindings, "", "unregistered");
    }
}

void RegEventServer::deregister(const std::string& aor, const std::string& reason,
                                std::function<void(std::size_t, const std::string&)> done)
{
    location_.lookup(aor, [this, alive = std::weak_ptr<bool>(alive_), aor, reason, done](LocationResult before) {
        if (alive.expired())
            return;
        if (!before.ok) {
            done(0, before.error);
            return;
        }
        location_.unbind_all(aor, [this, alive, aor, reason, done, count = before.bindings.size()](LocationResult after) {
            if (alive.expired())
                return;
            if (!after.ok) {
                done(0, after.error);
                return;
            }
            for (auto it = subscriptions_.begin(); it != subscriptions_.end();) {
                Subscription& subscription = *(it++)->second;
                if (subscription.aor == aor)
                    notify(subscription, {}, reason, reason);
            }
            done(count, "");
        });
    });
}

void RegEventServer::poll()
{
    const auto now = Clock::now();
    std::vector<std::string> keys;
    for (const auto& [key, subscription] : subscriptions_)
        keys.push_back(key);
    for (const auto& key : keys) {
        Subscription& subscription = *subscriptions_.at(key);
        if (subscription.expires <= now) {
            notify(subscription, {}, "timeout", "");
            continue;
        }
        if (subscription.polling)
            continue;
        subscription.polling = true;
        location_.lookup(subscription.aor, [this, alive = std::weak_ptr<bool>(alive_), key](LocationResult result) {
            if (alive.expired())
                return;
            const auto found = subscriptions_.find(key);
            if (found == subscriptions_.end())
                return;
            found->second->polling = false;
            if (!result.ok)
                return;
            // Notify only when the set of contacts or their expiry changed.
            const auto& known = found->second->known;
            bool changed = known.size() != result.bindings.size();
            for (const auto& binding : result.bindings) {
                const auto it = known.find(binding.contact);
                changed = changed || it == known.end() || it->second.expires != binding.expires;
            }
            if (changed)
                notify(*found->second, result.bindings, "", "expired");
        });
    }
}

void RegEventServer::notify(Subscription& subscription, const std::vector<Binding>& bindings, const std::string& ending,
                            const std::string& gone_event)
{
    const auto now = std::chrono::system_clock::now();
    sip::ReginfoRegistration registration;
    registration.aor = subscription.aor;
    registration.id = fmt::format("{:x}", std::hash<std::string>{}(subscription.aor));
    std::map<std::string, Binding> current;
    for (const auto& binding : bindings) {
        const bool is_new = !subscription.known.count(binding.contact);
        registration.contacts.push_back(contact_state(binding, "active", is_new ? "registered" : "refreshed", now));
        current[binding.contact] = binding;
    }
    for (const auto& [uri, binding] : subscription.known)
        if (!current.count(uri))
            registration.contacts.push_back(contact_state(binding, "terminated", gone_event.empty() ? "expired" : gone_event, now));
    registration.state = bindings.empty() ? (subscription.known.empty() && gone_event.empty() ? "init" : "terminated") : "active";
    subscription.known = std::move(current);

    sip::Reginfo info;
    info.version = subscription.version++;
    info.registrations.push_back(std::move(registration));
    const std::string body = sip::write_reginfo(info);

    const long left = std::max<long>(0, std::chrono::duration_cast<std::chrono::seconds>(subscription.expires - Clock::now()).count());
    const std::string state = ending.empty() ? fmt::format("active;expires={}", left) : "terminated;reason=" + ending;
    const std::string from = fmt::format("<{}>;tag={}", subscription.aor, subscription.local_tag);
    const std::string contact = "<" + stack_.contact_uri("") + ">";

    msg_t* msg = nta_msg_create(stack_.agent(), 0);
    sip_t* sip = sip_object(msg);
    su_home_t* home = msg_home(msg);
    nta_outgoing_t* orq = nullptr;
    if (msg &&
        sip_header_insert(msg, sip, reinterpret_cast<sip_header_t*>(sip_request_create(
                                        home, SIP_METHOD_NOTIFY, URL_STRING_MAKE(subscription.target.c_str()), nullptr))) == 0 &&
        sip_add_tl(msg, sip, SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(subscription.remote.c_str()),
                   SIPTAG_CALL_ID_STR(subscription.call_id.c_str()),
                   SIPTAG_CSEQ(sip_cseq_create(home, ++subscription.cseq, SIP_METHOD_NOTIFY)), SIPTAG_MAX_FORWARDS_STR("70"),
                   TAG_IF(!subscription.route.empty(), SIPTAG_ROUTE_STR(subscription.route.c_str())),
                   SIPTAG_CONTACT_STR(contact.c_str()), SIPTAG_EVENT_STR("reg"),
                   SIPTAG_SUBSCRIPTION_STATE_STR(state.c_str()), SIPTAG_CONTENT_TYPE_STR("application/reginfo+xml"),
                   SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END()) == 0)
        orq = nta_outgoing_mcreate(stack_.agent(), &notify_answer_cb, reinterpret_cast<nta_outgoing_magic_t*>(this),
                                   nullptr, msg, TAG_END());
    if (!orq) {
        if (msg)
            msg_destroy(msg);
        spdlog::warn("cannot send NOTIFY for {} to {}", subscription.aor, subscription.target);
    } else {
        notifies_[orq] = subscription.key;
    }
    if (!ending.empty()) {
        spdlog::info("subscription of {} to the registration state of {} ended: {}", subscription.target, subscription.aor, ending);
        end(subscription.key);
    }
}

void RegEventServer::on_notify_answer(nta_outgoing_s* orq, int status)
{
    const auto found = notifies_.find(orq);
    std::string key;
    if (found != notifies_.end()) {
        key = found->second;
        notifies_.erase(found);
    }
    nta_outgoing_destroy(orq);
    // RFC 6665 §4.2.2: a NOTIFY refused with 481 (or never answered) ends the subscription.
    if ((status == 481 || status == 408 || status >= 500) && subscriptions_.count(key)) {
        spdlog::info("NOTIFY for subscription {} answered {}: subscription ended", key, status);
        end(key);
    }
}

void RegEventServer::end(const std::string& key)
{
    subscriptions_.erase(key);
}

} // namespace imsp2p::core
