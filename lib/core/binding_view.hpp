// What a reader knows of an AOR's bindings in the overlay: per value slot
// (one per device), the newest valid record read. Shared by the location
// service and its lookup cache.
#pragma once

#include "core/binding_record.hpp"
#include "core/location.hpp"

#include <cstdint>
#include <map>

namespace imsp2p::core {

struct SlotEntry {
    std::uint64_t seq = 0;
    std::int64_t expires = 0; // the record's, unix seconds
    bool removed = false;     // a tombstone
    Binding binding;
    HostClock written_on;     // the writer's clocks (binding_record.hpp)
};

// When the slot's binding ends, on this host's wall clock now.
inline Clock::time_point slot_end(const SlotEntry& entry, const HostClock& here)
{
    return binding_end_here(entry.binding, entry.written_on, here);
}
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
