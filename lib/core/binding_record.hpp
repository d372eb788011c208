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

struct BindingPayload {
    bool removed = false;   // a tombstone: the device's binding is gone
    Binding binding;        // when not removed
    std::string node;       // the core node that served the REGISTER
};

// JSON: the Binding fields (expires in ms since the epoch) and the node's name.
Bytes encode_binding(const Binding& binding, const std::string& node);
Bytes encode_removal(const std::string& node);
std::optional<BindingPayload> decode_binding(const Bytes& payload); // nullopt: not a binding payload

} // namespace imsp2p::core
