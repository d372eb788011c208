// What a reader knows of an AOR's bindings in the overlay: per value slot
// (one per device), the newest valid record read. Shared by the location
// service and its lookup cache.
#pragma once

#include "core/location.hpp"

#include <cstdint>
#include <map>

namespace imsp2p::core {

struct SlotEntry {
    std::uint64_t seq = 0;
    std::int64_t expires = 0; // the record's, unix seconds
    bool removed = false;     // a tombstone
    Binding binding;
};
using BindingView = std::map<std::uint64_t, SlotEntry>; // by value id

// Keeps, per slot, the record with the higher sequence number. True when
// `into` changed.
inline bool merge_view(BindingView& into, const BindingView& from)
{
    bool changed = false;
    for (const auto& [id, entry] : from) {
        auto& current = into[id];
        if (current.seq == 0 || entry.seq > current.seq) {
            current = entry;
            changed = true;
        }
    }
    return changed;
}

} // namespace imsp2p::core
