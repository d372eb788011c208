// The notifier of the reg event package (RFC 3680; TS 24.229 §5.4.2.1):
// a registered UE subscribes to its own registration state and is told, by
// NOTIFY with an application/reginfo+xml body, when its contacts change —
// above all when the network deregisters it (administrative deregistration,
// `p2p-node deregister`), which the UE cannot learn otherwise.
//
// Who may subscribe: a UE whose SUBSCRIBE comes from the address one of the
// AOR's bindings was registered from (the `received` of the binding: the UE
// itself, or the P-CSCF in front of it). Anything else gets 403. This stands
// in for TS 24.229's P-Asserted-Identity check, which needs a trusted P-CSCF.
#pragma once

#include "core/location.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct nta_incoming_s;
struct nta_outgoing_s;
struct sip_s;

namespace imsp2p::sip {
class SipStack;
}

namespace imsp2p::core {

struct RegEventConfig {
    unsigned default_expires = 600;  // subscription lifetime when the SUBSCRIBE has none
    unsigned max_expires = 3600;
    std::size_t max_subscriptions = 100'000; // beyond: 503
};

class RegEventServer {
public:
    RegEventServer(sip::SipStack& stack, LocationService& location, RegEventConfig config = {});
    ~RegEventServer();
    RegEventServer(const RegEventServer&) = delete;
    RegEventServer& operator=(const RegEventServer&) = delete;

    // A SUBSCRIBE with Event: reg (owns irq like a sip::RequestServer handler).
    void handle(nta_incoming_s* irq, const sip_s* sip);

    // The registrar changed the AOR's bindings (a REGISTER): tell subscribers.
    // `event` is the reginfo event of contacts that disappeared (unregistered).
    void bindings_changed(const std::string& aor, const std::vector<Binding>& bindings);

    // Network-initiated deregistration: every binding of the AOR is removed;
    // subscribers get their contacts terminated with `reason` (deactivated:
    // the UE should register again; rejected: it should not) and their
    // subscriptions end. `done(removed bindings, error)` on the loop.
    void deregister(const std::string& aor, const std::string& reason,
                    std::function<void(std::size_t removed, const std::string& error)> done);

    // Ends expired subscriptions and notices bindings that expired or were
    // changed elsewhere (another core node): call every few seconds.
    void poll();

    std::size_t size() const { return subscriptions_.size(); }

    // For sofia's C callback (public for it): a NOTIFY's answer.
    void on_notify_answer(nta_outgoing_s* orq, int status);

private:
    struct Subscription;
    using Clock = std::chrono::steady_clock;

    void start(nta_incoming_s* irq, const sip_s* sip, unsigned expires);
    void refresh(Subscription& subscription, nta_incoming_s* irq, unsigned expires);
    // Sends the full state; `ending` (a reason) terminates the subscription.
    void notify(Subscription& subscription, const std::vector<Binding>& bindings, const std::string& ending,
                const std::string& gone_event);
    void end(const std::string& key);

    sip::SipStack& stack_;
    LocationService& location_;
    RegEventConfig config_;
    std::map<std::string, std::unique_ptr<Subscription>> subscriptions_; // by Call-ID + remote tag
    std::map<nta_outgoing_s*, std::string> notifies_;                   // NOTIFYs in flight
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace imsp2p::core
