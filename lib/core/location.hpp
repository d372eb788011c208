// The location service: the bindings of each address-of-record (AOR), as the
// registrar makes them and the proxy will read them. Asynchronous by contract,
// because a later implementation keeps them in the DHT overlay (DESIGN.md §4):
// every call ends in `done`, on the event loop's thread, possibly before the
// call returns (the in-memory one always does).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace imsp2p::core {

using Clock = std::chrono::system_clock; // absolute: a binding's expiry means the same on every node

struct Binding {
    std::string contact;            // the Contact URI, without <>
    Clock::time_point expires;      // when the binding ends
    std::string instance;           // +sip.instance value without quotes (e.g. <urn:uuid:…>); empty: none
    std::vector<std::string> path;  // Path header values (RFC 3327), in order
    std::string call_id;            // of the REGISTER that made it (RFC 3261 §10.3 step 7)
    std::uint32_t cseq = 0;
    std::string received;           // where that REGISTER came from: transport:address:port
};

// A binding stands for a device: the same instance, or else the same contact
// URI, is the same binding (RFC 5626 §6, RFC 3261 §10.3).
bool same_device(const Binding& binding, const std::string& contact, const std::string& instance);

struct LocationResult {
    bool ok = true;
    std::string error;              // why not, when !ok
    std::vector<Binding> bindings;  // the AOR's unexpired bindings after the operation
};

class LocationService {
public:
    using Done = std::function<void(LocationResult)>;
    virtual ~LocationService() = default;

    // Adds the binding, or replaces the one of the same device.
    virtual void bind(const std::string& aor, Binding binding, Done done) = 0;
    // Removes the binding of the device (same_device).
    virtual void unbind(const std::string& aor, const std::string& contact, const std::string& instance, Done done) = 0;
    virtual void unbind_all(const std::string& aor, Done done) = 0;
    virtual void lookup(const std::string& aor, Done done) = 0;
};

struct LocationLimits {
    std::size_t bindings_per_aor = 10;   // beyond: the binding expiring first makes room
    std::size_t bindings = 1'000'000;    // beyond: bind fails (the registrar answers 503)
};

// The bindings in this process's memory, bounded by LocationLimits. Expired
// bindings disappear when their AOR is touched, and for all AORs on purge().
class MemoryLocation : public LocationService {
public:
    explicit MemoryLocation(LocationLimits limits = {}, std::function<Clock::time_point()> clock = Clock::now);

    void bind(const std::string& aor, Binding binding, Done done) override;
    void unbind(const std::string& aor, const std::string& contact, const std::string& instance, Done done) override;
    void unbind_all(const std::string& aor, Done done) override;
    void lookup(const std::string& aor, Done done) override;

    void purge();                       // drops every expired binding
    std::size_t size() const { return count_; } // bindings held, expired ones not yet purged included

private:
    // Drops the AOR's expired bindings; the AOR itself when none is left.
    // Returns the bindings left (empty when the AOR is gone).
    std::vector<Binding> current(const std::string& aor);

    LocationLimits limits_;
    std::function<Clock::time_point()> clock_;
    std::map<std::string, std::vector<Binding>> aors_;
    std::size_t count_ = 0;
};

} // namespace imsp2p::core
