// The S-CSCF registrar of a core node (RFC 3261 §10.3, TS 24.229 §5.4.1):
// REGISTER is authenticated with Digest MD5/SHA-256 or Digest AKA against the
// subscriber store and applied to the location service. The node's request
// router hands it every REGISTER.
#pragma once

#include "core/authenticator.hpp"
#include "core/location.hpp"
#include "core/sec_agree_server.hpp"
#include "hss/subscriber_store.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct nta_incoming_s;
struct sip_s;

namespace imsp2p::sip {
class SipStack;
}

namespace imsp2p::core {

struct RegistrarConfig {
    AuthConfig auth;                 // auth.realm is the home domain
    unsigned min_expires = 1;        // a shorter non-zero lifetime: 423 Interval Too Brief
    unsigned max_expires = 3600;     // a longer one is cut to this
    unsigned default_expires = 3600; // when the request gives none
    std::size_t max_contacts = 32;   // Contacts in one REGISTER; more: 403
    std::optional<SecAgreeConfig> sec_agree; // P-CSCF side of sec-agree; none: Require: sec-agree gets 420
};

struct RegistrarEvent {
    enum class Kind {
        registered,   // bindings added or refreshed
        unregistered, // bindings removed (and none added)
        auth_failed,  // refused: unknown user, wrong answer, IMPU not owned, bad AUTS, unreadable credentials
        resync,       // a valid AUTS moved the subscriber's SEQ forward
    };
    Kind kind = Kind::registered;
    std::string impi;      // the subscriber; for an unknown user, the username given (empty without one)
    std::string impu;      // the canonical AOR of To
    std::string source;    // transport:address:port the request came from
    int status = 0;        // the status code answered
    std::string reason;    // auth_failed: why, snake_case (see Verdict::reason and the registrar's own)
    std::string algorithm; // registered, unregistered: the Digest algorithm answered
    std::vector<Binding> bindings; // registered, unregistered: the AOR's bindings after the request
    std::uint64_t seq_ms = 0;      // resync: the UE's SEQ the node continues after
};

class Registrar {
public:
    // Called on the event loop for each outcome; must not throw.
    using Events = std::function<void(const RegistrarEvent&)>;

    Registrar(sip::SipStack& stack, hss::SubscriberStore& store, LocationService& location, RegistrarConfig config,
              Events events = {});
    ~Registrar();
    Registrar(const Registrar&) = delete;
    Registrar& operator=(const Registrar&) = delete;

    // Serves one REGISTER: answers irq (now or once the location service
    // has) and destroys it; `sip` must live as long as irq.
    void handle(nta_incoming_s* irq, const sip_s* sip);

    Authenticator& authenticator() { return auth_; }
    // The Service-Route this node hands out: <sip:orig@ADDRESS:PORT;lr>.
    const std::string& service_route() const { return service_route_; }

private:
    struct Request;
    using RequestPtr = std::shared_ptr<Request>;

    void on_register(const RequestPtr& request);
    bool read_contacts(Request& request);
    void update(const RequestPtr& request, const LocationResult& current);
    void apply(const RequestPtr& request, std::size_t next);
    void registered(Request& request, const std::vector<Binding>& bindings);
    // Answers `status` (with our Security-Server for a sec-agree failure) and emits auth_failed.
    void refuse(Request& request, int status, const char* phrase, const std::string& reason,
                const char* security_server = nullptr);
    // Runs `step` on a location answer, unless this registrar is gone by then.
    LocationService::Done then(const RequestPtr& request, std::function<void(const LocationResult&)> step);
    std::string temp_gruu(const std::string& aor, const Binding& binding) const;
    void emit(RegistrarEvent event) const;

    hss::SubscriberStore& store_;
    LocationService& location_;
    RegistrarConfig config_;
    Events events_;
    Authenticator auth_;
    std::string gruu_key_;      // makes temporary GRUUs unguessable
    std::optional<SecAgreeServer> sec_agree_;
    std::string service_route_;
    std::string tls_service_route_; // for REGISTERs that came over TLS: the route stays on TLS
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true); // location answers check it
};

} // namespace imsp2p::core
