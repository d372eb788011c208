// The location service in the overlay (DESIGN.md §4): each binding of an AOR
// is a record signed by this node under InfoHash(AOR), one value slot per
// device (binding_record.hpp), living as long as the binding. Removal puts a
// tombstone in the slot (a higher sequence number), which readers and our
// nodes' edit policy prefer to the older binding.
//
// Readers check every value against the overlay CA and drop the rest
// (dropped_forged(), on_dropped). `done` runs through `post`, which must run
// the work on the SIP loop's thread: OpenDHT answers on its own thread.
// The OverlayNode must outlive this object and be stopped before whatever
// `post` hands work to goes away.
#pragma once

#include "core/binding_record.hpp"
#include "core/location.hpp"
#include "dht/overlay_node.hpp"
#include "dht/signed_record.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace imsp2p::core {

// A value the reader refused: its key, why (verdict_name or
// "malformed-payload"), details, and the writer the value names.
struct DroppedValue {
    std::string aor;
    std::string verdict;
    std::string why;
    std::string writer;
};

struct DhtLocationConfig {
    std::string node_name;                        // written in each binding: the node that served it
    std::size_t bindings_per_aor = 10;            // beyond: the binding expiring first makes room
    std::chrono::seconds tombstone_lifetime{60};  // at least; longer if the binding it hides lives longer
    std::function<Clock::time_point()> clock = Clock::now;
    std::function<HostClock()> host_clock = host_clock_now; // the same host as the clock's
    std::function<void(const DroppedValue&)> on_dropped; // on the loop thread (e.g. log "dropped-forged-value")
    std::size_t lookup_cache = 4096;              // AORs whose lookups are served from memory (lookup_cache.hpp); 0: none
};

class DhtLocation : public LocationService {
public:
    using Post = std::function<void(std::function<void()>)>;

    DhtLocation(dht::OverlayNode& overlay, dht::RecordSigner signer, std::shared_ptr<const dht::Verifier> verifier,
                Post post, DhtLocationConfig config = {});
    ~DhtLocation();

    // Answers once every record is stored (the registrar sends 200 only then).
    void bind(const std::string& aor, Binding binding, Done done) override;
    void unbind(const std::string& aor, const std::string& contact, const std::string& instance, Done done) override;
    void unbind_all(const std::string& aor, Done done) override;
    void lookup(const std::string& aor, Done done) override;

    std::uint64_t dropped_forged() const;    // values that failed the CA check, since start
    std::uint64_t dropped_malformed() const; // signed by a trusted node, but not a binding we can read
    std::uint64_t cache_hits() const;        // lookups answered from the lookup cache

private:
    struct Shared;
    std::shared_ptr<Shared> shared_; // pending overlay operations keep it alive
};

} // namespace imsp2p::core
