// Binding lookups answered from memory, kept current by the overlay itself.
// The first lookup of an AOR reads it from the DHT and starts an OpenDHT
// listen on its notice key; every node that writes the AOR's bindings
// (registration, refresh, removal) puts a signed notice there, which the
// storing nodes push to this node, and the AOR is read again. (OpenDHT 2.4 pushes only value ids a listener has not seen, so
// the replaced binding records themselves are never pushed.) A routed
// request then costs no DHT round trip, which is what puts MESSAGE routing
// through the core near a proxy with its location in memory.
//
// Safeguards against a lost notice: an entry holding a binding past its
// expiry is read again, and every entry is read again in the background
// after `refresh`. An entry is served only once a read gave it a record. Bounded: at most `capacity` AORs, the least recently used one
// evicted with its listen. Thread-safe: lookups on the SIP loop, pushes on
// OpenDHT's thread.
#pragma once

#include "core/binding_view.hpp"
#include "dht/overlay_node.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace imsp2p::core {

struct LookupCacheConfig {
    std::size_t capacity = 4096;
    std::chrono::seconds refresh{60};
    std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
};

// Where the notices of an AOR's changes live, and their Record::kind.
std::string notice_key(const std::string& aor);
inline constexpr const char* notice_kind = "changed";

class LookupCache {
public:
    // True when pushed values hold a valid notice for the key (CA, key, expiry).
    using IsNotice = std::function<bool(const std::string& key, const std::vector<dht::RawValue>& values)>;
    // Asks for a fresh read of the AOR (its result comes back through merge_read).
    using Reread = std::function<void(const std::string& aor)>;

    LookupCache(dht::OverlayNode& overlay, IsNotice is_notice, Reread reread, LookupCacheConfig config);
    ~LookupCache(); // cancels every listen
    LookupCache(const LookupCache&) = delete;
    LookupCache& operator=(const LookupCache&) = delete;

    // The AOR's view when it can be served (a miss otherwise: read it and
    // merge_read the result). Starts a background read when one is due.
    std::optional<BindingView> find(const std::string& aor);
    // A complete read of the AOR: merged in, and its notices listened to from now on.
    void merge_read(const std::string& aor, const BindingView& view);
    // Records this node wrote: merged into an AOR already cached.
    void merge_written(const std::string& aor, const BindingView& view);

    std::size_t size() const;
    std::uint64_t hits() const;
    std::uint64_t misses() const;

private:
    struct Entry {
        BindingView view;
        bool servable = false;  // read since the last notice, with at least one record
        std::chrono::steady_clock::time_point read_at;
        std::uint64_t listen = 0; // the overlay's listen handle; 0 while being set up
        std::list<std::string>::iterator lru;
    };
    void pushed(const std::string& aor, const std::vector<dht::RawValue>& values, bool expired);

    dht::OverlayNode& overlay_;
    IsNotice is_notice_;
    Reread reread_;
    LookupCacheConfig config_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_; // most recently used first
    std::uint64_t hits_ = 0, misses_ = 0;
};

} // namespace imsp2p::core
