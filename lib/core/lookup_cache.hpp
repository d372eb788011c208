// Binding lookups answered from memory, kept current by the overlay itself.
// The first lookup of an AOR reads it from the DHT and starts an OpenDHT
// listen on its notice key, where this node also puts a signed "cacher"
// record (its standing interest, renewed while the entry is used). A node
// that writes the AOR's bindings (registration, refresh, removal) puts a
// signed notice there only when another node's cacher record is live (its
// own listen on the key brings them): the storing nodes push the notice to
// the caching nodes, which read the AOR again. (OpenDHT 2.4 pushes only value
// ids a listener has not seen, so the replaced binding records themselves are
// never pushed.) A routed request then costs no DHT round trip, which is what
// puts MESSAGE routing through the core near a proxy with its location in
// memory; and a refresh of an AOR no other node caches costs only its own
// put, which is what the registration rate rests on (about 8 of the 16 DHT
// datagrams of a refresh were notices and their pushes back to the writer).
//
// An entry is served only once a read that started after its cacher record
// was stored gave it a record, and while that record lives: a writer that
// had not yet seen the record when it decided on a notice wrote before that
// read. A writer that caches the AOR decides at the end of its put, so a
// cacher record stored before (pushed before the put's acknowledgement) is
// counted; a writer that does not cache it always notifies.
//
// Safeguards against a lost notice or push: an entry holding a binding past
// its expiry is read again, and every entry is read again in the background
// after `refresh`. Bounded: at most `capacity` AORs, the least recently used
// one evicted with its listen (its cacher record then lapses). Thread-safe:
// lookups on the SIP loop, pushes on OpenDHT's thread.
#pragma once

#include "core/binding_view.hpp"
#include "dht/overlay_node.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace imsp2p::core {

struct LookupCacheConfig {
    std::size_t capacity = 4096;
    std::chrono::seconds refresh{60};
    // How long a cacher record lives on the storing nodes; renewed from half
    // of it, and an entry is no longer served in its last `margin`.
    std::chrono::seconds interest = dht::OverlayNode::cacher_lifetime;
    std::chrono::seconds margin{30};
    std::function<std::chrono::steady_clock::time_point()> clock = std::chrono::steady_clock::now;
};

// Where the notices of an AOR's changes and its cacher records live, and
// their Record::kind.
std::string notice_key(const std::string& aor);
inline constexpr const char* notice_kind = "changed";
inline constexpr const char* cacher_kind = "cacher";

// What values pushed on a notice key hold, as the location service checked them.
struct Pushed {
    bool notice = false;                // another node's valid change notice
    std::vector<std::uint64_t> cachers; // value ids of other nodes' valid cacher records
    bool own = false;                   // this node's own cacher record
};

class LookupCache {
public:
    using Time = std::chrono::steady_clock::time_point;
    // Checks pushed values (CA, key, expiry) and sorts them.
    using Classify = std::function<Pushed(const std::string& key, const std::vector<dht::RawValue>& values)>;
    // Asks for a fresh read of the AOR (its result comes back through merge_read).
    using Reread = std::function<void(const std::string& aor)>;
    // Puts this node's cacher record on the AOR's notice key; done(ok) on any thread.
    using Announce = std::function<void(const std::string& aor, std::function<void(bool ok)> done)>;

    LookupCache(dht::OverlayNode& overlay, Classify classify, Reread reread, Announce announce, LookupCacheConfig config);
    ~LookupCache(); // cancels every listen
    LookupCache(const LookupCache&) = delete;
    LookupCache& operator=(const LookupCache&) = delete;

    // The AOR's view when it can be served (a miss otherwise: read it and
    // merge_read the result). Starts a background read when one is due.
    std::optional<BindingView> find(const std::string& aor);
    // A complete read of the AOR that started at `started` (clock()): merged
    // in, and its notices listened to from now on.
    void merge_read(const std::string& aor, const BindingView& view, Time started);
    // Records this node wrote: merged into an AOR already cached.
    void merge_written(const std::string& aor, const BindingView& view);

    // Whether a write of the AOR must put a notice: another node caches it,
    // or this node cannot tell (it does not cache it, or has not yet seen its
    // own cacher record come back through its listen).
    bool must_notify(const std::string& aor) const;
    Time now() const { return config_.clock(); }

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
        // This node's cacher record: since when it stands without a lapse,
        // until when it may be relied on (both unset before the first ack).
        std::optional<Time> interest_since, interest_until, announced_at;
        bool announcing = false;
        bool own_seen = false;           // our record came back: others' stored before it came too
        std::set<std::uint64_t> cachers; // other nodes' live cacher records
    };
    void pushed(const std::string& aor, const std::vector<dht::RawValue>& values, bool expired);
    void announce(const std::string& aor); // puts the cacher record; not under the lock
    void announced(const std::string& aor, bool ok, Time at);

    dht::OverlayNode& overlay_;
    Classify classify_;
    Reread reread_;
    Announce announce_;
    LookupCacheConfig config_;
    mutable std::mutex mutex_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> lru_; // most recently used first
    std::uint64_t hits_ = 0, misses_ = 0;
};

} // namespace imsp2p::core
