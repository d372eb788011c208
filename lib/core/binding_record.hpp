// How a binding travels in the overlay (DESIGN.md §4): one signed record per
// device under the canonical AOR, in a value slot (value id) that every node
// computes alike, so a refresh or a removal from any node replaces it.
#pragma once

#include "core/location.hpp"
#include "util/hex.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace imsp2p::core {

inline constexpr const char* binding_kind = "binding"; // Record::kind of bindings and their tombstones

// 64 bits of SHA-256 over (AOR, device), device = the instance id if any,
// else the contact URI (as same_device() tells devices apart). Never 0.
std::uint64_t binding_value_id(const std::string& aor, const std::string& contact, const std::string& instance);

// A host's clocks when a binding is written: which boot of which machine
// (its boot id, shortened; empty when unknown), and its wall clock minus its
// monotonic clock. On one host, the monotonic clock is shared by every
// process and no step of the wall clock moves it.
struct HostClock {
    std::string host;
    std::int64_t offset_ms = 0;
};
HostClock host_clock_now();

struct BindingPayload {
    bool removed = false;   // a tombstone: the device's binding is gone
    Binding binding;        // when not removed
    std::string node;       // the core node that served the REGISTER
    HostClock written_on;   // the writer's clocks (host empty: not said)
};

// JSON: the Binding fields (expires in ms since the epoch), the node's name
// and the writer's clocks.
Bytes encode_binding(const Binding& binding, const std::string& node, const HostClock& clock = host_clock_now());
Bytes encode_removal(const std::string& node);
std::optional<BindingPayload> decode_binding(const Bytes& payload); // nullopt: not a binding payload

// When the binding ends, on the wall clock of `here` now. A binding written
// on the same host ends, at the latest, where its writer's monotonic clock
// put its end: the wall clock stepped back since the write does not keep it
// longer. Otherwise (another host, or not said) its signed time of day.
Clock::time_point binding_end_here(const Binding& binding, const HostClock& written_on, const HostClock& here);

} // namespace imsp2p::core
