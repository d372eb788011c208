// The UE's subscription to its own registration state (reg event package,
// RFC 3680; TS 24.229 §5.1.1.3): SUBSCRIBE along the Service-Route after
// registering, NOTIFYs answered and read, refresh before expiry. It reports
// when the network deregisters this UE's contact.
#pragma once

#include "cli/outcome.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

struct nta_outgoing_s;
struct nta_leg_s;
struct nta_incoming_s;
struct sip_s;

namespace imsp2p::sip {

class SipStack;
class Timer;

struct RegEventParams {
    std::string impu;
    std::string contact;                    // ours, to find in the NOTIFYs
    std::vector<std::string> service_route; // preloaded Route
    std::string next_hop;                   // outbound proxy; empty: the IMPU's host
    unsigned expires = 600;
    std::string user_agent;
};

struct RegEventNotice {
    bool deregistered = false;   // our contact (or the whole registration) was terminated
    std::string reason;          // the reginfo event (deactivated, rejected, ...) or Subscription-State reason
    std::string contact_state;   // active | terminated | unknown
    unsigned version = 0;
};

class RegEventSubscription {
public:
    using OnNotice = std::function<void(const RegEventNotice&)>;
    using OnFailure = std::function<void(Outcome, const std::string&)>;

    // Uses the stack's default leg for incoming NOTIFYs: one subscription per stack.
    RegEventSubscription(SipStack& stack, RegEventParams params, OnNotice on_notice, OnFailure on_failure);
    ~RegEventSubscription();
    RegEventSubscription(const RegEventSubscription&) = delete;
    RegEventSubscription& operator=(const RegEventSubscription&) = delete;

    void start();                                   // initial SUBSCRIBE
    void stop(std::function<void()> done);          // SUBSCRIBE with Expires: 0, then done()

    // Called by sofia-sip (public for its C callbacks).
    int on_subscribe_response(const sip_s* sip);
    int on_request(nta_incoming_s* irq, const sip_s* sip);

private:
    void send(unsigned expires);

    SipStack& stack_;
    RegEventParams params_;
    OnNotice on_notice_;
    OnFailure on_failure_;
    nta_leg_s* leg_ = nullptr;
    nta_outgoing_s* orq_ = nullptr;
    std::unique_ptr<Timer> refresh_;
    std::function<void()> stopped_;
    std::string call_id_, from_, to_tag_;
    std::uint32_t cseq_ = 1;
    unsigned last_version_ = 0;
    bool stopping_ = false;
};

} // namespace imsp2p::sip
