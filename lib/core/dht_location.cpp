#include "core/dht_location.hpp"

#include "core/binding_record.hpp"
#include "core/lookup_cache.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>
#include <map>

namespace imsp2p::core {
namespace {

using std::chrono::seconds;

std::int64_t unix_seconds(Clock::time_point t) // rounded up: a record never ends before its binding
{
    return std::chrono::ceil<seconds>(t.time_since_epoch()).count();
}

std::int64_t unix_now(const std::function<Clock::time_point()>& clock)
{
    return std::chrono::floor<seconds>(clock().time_since_epoch()).count();
}

using Entry = SlotEntry; // the newest record of one value slot, as read
using View = BindingView;

struct Write {
    std::uint64_t id;
    Bytes record;
    seconds lifetime;
};

bool live(const Entry& entry, Clock::time_point now, const HostClock& here)
{
    return !entry.removed && slot_end(entry, here) > now;
}

// Sorted by expiry, then contact: the same answer from every node.
std::vector<Binding> sorted(std::vector<Binding> bindings)
{
    std::sort(bindings.begin(), bindings.end(), [](const Binding& a, const Binding& b) {
        return a.expires != b.expires ? a.expires < b.expires : a.contact < b.contact;
    });
    return bindings;
}

} // namespace

struct DhtLocation::Shared : std::enable_shared_from_this<Shared> {
    dht::OverlayNode& overlay;
    dht::RecordSigner signer;
    std::shared_ptr<const dht::Verifier> verifier;
    Post post;
    DhtLocationConfig config;
    std::atomic<std::uint64_t> forged{0};
    std::atomic<std::uint64_t> malformed{0};
    std::atomic<std::uint64_t> last_seq{0};
    std::unique_ptr<LookupCache> cache; // null: every lookup reads the overlay
    // The payload of this location service's change notices and cacher
    // records: the cache needs no notice of what this process wrote itself
    // (write() merged it), nor counts its own interest as another node's; and
    // node names alone could be shared by mistake.
    const Bytes notice_tag;
    const std::uint64_t cacher_id; // the value id of this process's cacher records

    Shared(dht::OverlayNode& o, dht::RecordSigner s, std::shared_ptr<const dht::Verifier> v, Post p, DhtLocationConfig c)
        : overlay(o), signer(std::move(s)), verifier(std::move(v)), post(std::move(p)), config(std::move(c)),
          notice_tag([] {
              const auto tag = random_bytes(8);
              return Bytes(tag.begin(), tag.end());
          }()),
          cacher_id([this] {
              std::uint64_t id = 0;
              for (const auto byte : notice_tag)
                  id = id << 8 | byte;
              return id == 0 ? 1 : id;
          }())
    {
    }

    void start_cache()
    {
        if (config.lookup_cache == 0)
            return;
        LookupCacheConfig cache_config;
        cache_config.capacity = config.lookup_cache;
        // All run while the cache lives, which Shared outlives.
        auto classify = [this](const std::string& key, const std::vector<dht::RawValue>& values) {
            const auto now = unix_now(config.clock);
            Pushed out;
            for (const auto& value : values) {
                const auto checked = verifier->check(value.data, key, now);
                if (!checked.ok())
                    continue;
                const bool ours = checked.record.payload == notice_tag;
                if (checked.record.kind == notice_kind)
                    out.notice = out.notice || !ours;
                else if (checked.record.kind == cacher_kind && ours)
                    out.own = true;
                else if (checked.record.kind == cacher_kind)
                    out.cachers.push_back(value.id);
            }
            return out;
        };
        auto reread = [this](const std::string& aor) {
            const auto started = cache->now();
            read(aor, [self = shared_from_this(), aor, started](bool ok, View view) {
                if (ok && self->cache)
                    self->cache->merge_read(aor, view, started);
            });
        };
        auto announce = [this](const std::string& aor, std::function<void(bool)> done) { put_cacher(aor, std::move(done)); };
        cache = std::make_unique<LookupCache>(overlay, classify, reread, announce, cache_config);
    }

    // Tells the nodes that cache the AOR's lookups that its bindings changed
    // (lookup_cache.hpp). Not awaited: a lost notice leaves them a minute
    // behind at worst (their background read).
    void notify(const std::string& aor)
    {
        const auto now = unix_now(config.clock);
        const auto key = notice_key(aor);
        auto bytes = signer.sign({key, notice_kind, notice_tag, next_seq(0), now + dht::OverlayNode::notice_lifetime.count(), {}});
        std::uint64_t id = 0;
        while (id == 0)
            id = static_cast<std::uint64_t>(random_below(std::numeric_limits<std::size_t>::max()));
        overlay.put(key, std::move(bytes), id, dht::OverlayNode::notice_lifetime, [](bool) {}, dht::OverlayNode::notice_type);
    }

    // This node's standing interest in the AOR's notices (lookup_cache.hpp):
    // one value slot per process (the tag's), replaced at each renewal.
    void put_cacher(const std::string& aor, std::function<void(bool)> done)
    {
        const auto now = unix_now(config.clock);
        const auto key = notice_key(aor);
        const auto lifetime = dht::OverlayNode::cacher_lifetime;
        Bytes bytes;
        try {
            bytes = signer.sign({key, cacher_kind, notice_tag, next_seq(0), now + lifetime.count(), {}});
        } catch (const std::exception& error) { // a key over the size limits: no interest, no cache
            spdlog::error("location: cannot announce interest in {}: {}", aor, error.what());
            done(false);
            return;
        }
        overlay.put(key, std::move(bytes), cacher_id, lifetime, std::move(done), dht::OverlayNode::cacher_type);
    }

    // Milliseconds since the epoch, but above `after` (the slot's current
    // record, which another node's clock may have set ahead of ours) and above
    // every sequence number this node gave before.
    std::uint64_t next_seq(std::uint64_t after)
    {
        const auto now = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(config.clock().time_since_epoch()).count());
        std::uint64_t last = last_seq.load();
        std::uint64_t next;
        do
            next = std::max({now, after + 1, last + 1});
        while (!last_seq.compare_exchange_weak(last, next));
        return next;
    }

    Write record(const std::string& aor, std::uint64_t id, Bytes payload, std::uint64_t seq, std::int64_t expires)
    {
        const auto now = unix_now(config.clock);
        auto bytes = signer.sign({aor, binding_kind, std::move(payload), seq, expires, {}});
        return {id, std::move(bytes), seconds(std::max<std::int64_t>(1, expires - now))};
    }

    // Hides a slot's binding. The tombstone lives at least as long as the
    // record it hides: a node that missed it must not show the binding again
    // once the tombstone is gone.
    Write tombstone(const std::string& aor, std::uint64_t id, const Entry& entry)
    {
        const auto expires = std::max(unix_seconds(config.clock() + config.tombstone_lifetime), entry.expires);
        return record(aor, id, encode_removal(signer.name()), next_seq(entry.seq), expires);
    }

    // The AOR's slots as the overlay has them; `then` runs on the loop.
    void read(const std::string& aor, std::function<void(bool ok, View view)> then)
    {
        overlay.get(aor, [self = shared_from_this(), aor, then](bool ok, std::vector<dht::RawValue> values) {
            View view;
            std::vector<DroppedValue> dropped;
            try {
                view = self->verified(aor, values, dropped);
            } catch (const std::exception& error) {
                spdlog::error("location: reading {} failed: {}", aor, error.what());
                ok = false;
            }
            self->post([self, ok, view = std::move(view), dropped = std::move(dropped), then] {
                if (self->config.on_dropped)
                    for (const auto& value : dropped)
                        self->config.on_dropped(value);
                then(ok, view);
            });
        });
    }

    // The view a change is computed from: the cache's when it can serve the
    // AOR (kept current by other nodes' notices; this node's own writes are
    // merged as they are acknowledged), a read otherwise. Saves a DHT round
    // trip per refresh. A lost notice leaves the view stale until the cache's
    // background read: a write from it still carries a sequence number above
    // what this node knew (next_seq) and the current time, so at worst a slot
    // evicted elsewhere in that window is not tombstoned twice.
    void read_for_write(const std::string& aor, std::function<void(bool ok, View view)> then)
    {
        if (cache)
            if (auto view = cache->find(aor)) {
                then(true, *view);
                return;
            }
        read(aor, std::move(then));
    }

    // Runs on OpenDHT's thread: keeps the valid records, newest per slot.
    View verified(const std::string& aor, const std::vector<dht::RawValue>& values, std::vector<DroppedValue>& dropped)
    {
        View view;
        const auto now = unix_now(config.clock);
        for (const auto& value : values) {
            auto checked = verifier->check(value.data, aor, now);
            if (checked.verdict == dht::Verdict::expired)
                continue;
            if (!checked.ok()) {
                ++forged;
                dropped.push_back({aor, std::string(dht::verdict_name(checked.verdict)), checked.why, checked.writer});
                continue;
            }
            if (checked.record.kind != binding_kind)
                continue; // another service's record under the same key
            auto payload = decode_binding(checked.record.payload);
            if (!payload) {
                ++malformed;
                dropped.push_back({aor, "malformed-payload", "not a binding", checked.writer});
                continue;
            }
            auto& entry = view[value.id];
            if (entry.seq == 0 || checked.record.seq > entry.seq)
                entry = {checked.record.seq, checked.record.expires, payload->removed, std::move(payload->binding),
                         payload->written_on};
        }
        return view;
    }

    // Stores every record, then (when `notice`) a notice for caches; `then(ok)`
    // runs on the loop once all records are answered.
    void write(const std::string& aor, std::vector<Write> writes, bool notice, std::function<void(bool ok)> then)
    {
        if (writes.empty()) {
            then(true);
            return;
        }
        struct Pending {
            std::atomic<std::size_t> left;
            std::atomic<bool> ok{true};
            explicit Pending(std::size_t n) : left(n) {}
        };
        auto pending = std::make_shared<Pending>(writes.size());
        auto written = std::make_shared<View>(); // what the cache learns once all are stored
        for (const auto& w : writes)
            if (auto decoded = dht::decode_record(w.record))
                if (auto payload = decode_binding(decoded->record.payload))
                    (*written)[w.id] = {decoded->record.seq, decoded->record.expires, payload->removed, payload->binding,
                                        payload->written_on};
        for (auto& w : writes)
            overlay.put(aor, std::move(w.record), w.id, w.lifetime,
                        [self = shared_from_this(), aor, pending, written, notice, then](bool ok) {
                            if (!ok)
                                pending->ok = false;
                            if (--pending->left != 0)
                                return;
                            // Decided now, not when the write began: a cacher
                            // record stored before this put was pushed to us first.
                            if (pending->ok && notice && (!self->cache || self->cache->must_notify(aor)))
                                self->notify(aor);
                            self->post([self, aor, written, then, ok = pending->ok.load()] {
                                if (ok && self->cache) // before the 200 OK: this node routes by it at once
                                    self->cache->merge_written(aor, *written);
                                then(ok);
                            });
                        });
    }

    // The live bindings, at most bindings_per_aor (the latest-expiring ones).
    std::vector<Binding> current(const View& view) const
    {
        std::vector<Binding> out;
        const auto now = config.clock();
        const auto here = config.host_clock();
        for (const auto& [id, entry] : view)
            if (live(entry, now, here)) {
                out.push_back(entry.binding);
                out.back().expires = slot_end(entry, here);
            }
        out = sorted(std::move(out));
        if (out.size() > config.bindings_per_aor)
            out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(config.bindings_per_aor));
        return out;
    }

    // The records a bind writes: the binding first, then tombstones for the
    // slots it replaces or evicts. `after` gets the AOR's bindings after it.
    std::vector<Write> bind_writes(const std::string& aor, const Binding& binding, const View& view, std::vector<Binding>& after)
    {
        const auto id = binding_value_id(aor, binding.contact, binding.instance);
        const auto now = config.clock();
        const auto here = config.host_clock();
        std::vector<Write> writes;
        std::vector<std::pair<std::uint64_t, const Entry*>> others; // live bindings of other devices
        for (const auto& [slot, entry] : view) {
            if (slot == id || !live(entry, now, here))
                continue;
            // The same device under another slot (its instance id came or
            // went): the new binding replaces that one too.
            if (same_device(entry.binding, binding.contact, binding.instance))
                writes.push_back(tombstone(aor, slot, entry));
            else
                others.emplace_back(slot, &entry);
        }
        // A device that registers from a new contact each time must not fill
        // the AOR: the binding expiring first makes room.
        while (others.size() >= config.bindings_per_aor) {
            const auto first = std::min_element(others.begin(), others.end(), [](const auto& a, const auto& b) {
                return a.second->binding.expires < b.second->binding.expires;
            });
            writes.push_back(tombstone(aor, first->first, *first->second));
            others.erase(first);
        }
        const auto previous = view.find(id);
        const auto seq = next_seq(previous == view.end() ? 0 : previous->second.seq);
        writes.insert(writes.begin(),
                      record(aor, id, encode_binding(binding, config.node_name, here), seq, unix_seconds(binding.expires)));
        for (const auto& [slot, entry] : others) {
            after.push_back(entry->binding);
            after.back().expires = slot_end(*entry, here);
        }
        after = sorted(std::move(after));
        return writes;
    }

    // Tombstones for the live slots `match` selects; answers with the rest.
    void remove(const std::string& aor, const View& view, const std::function<bool(const Binding&)>& match, Done done)
    {
        std::vector<Write> writes;
        View rest;
        const auto now = config.clock();
        const auto here = config.host_clock();
        try {
            for (const auto& [id, entry] : view) {
                if (!live(entry, now, here))
                    continue;
                if (match(entry.binding))
                    writes.push_back(tombstone(aor, id, entry));
                else
                    rest.emplace(id, entry);
            }
        } catch (const std::exception& error) {
            done({false, fmt::format("cannot remove bindings of {}: {}", aor, error.what()), {}});
            return;
        }
        auto remaining = current(rest);
        write(aor, std::move(writes), true, [aor, remaining = std::move(remaining), done](bool ok) {
            if (ok)
                done({true, {}, remaining});
            else
                done({false, fmt::format("the overlay did not store the removal for {}", aor), {}});
        });
    }
};

DhtLocation::DhtLocation(dht::OverlayNode& overlay, dht::RecordSigner signer, std::shared_ptr<const dht::Verifier> verifier,
                         Post post, DhtLocationConfig config)
{
    if (config.node_name.empty())
        config.node_name = signer.name();
    config.bindings_per_aor = std::max<std::size_t>(1, config.bindings_per_aor);
    shared_ = std::make_shared<Shared>(overlay, std::move(signer), std::move(verifier), std::move(post), std::move(config));
    shared_->start_cache();
}

DhtLocation::~DhtLocation()
{
    shared_->cache.reset(); // its listens end here; operations in flight keep the rest alive
}

void DhtLocation::bind(const std::string& aor, Binding binding, Done done)
{
    auto self = shared_;
    self->read_for_write(aor, [self, aor, binding = std::move(binding), done](bool ok, View view) {
        if (!ok) {
            done({false, fmt::format("the overlay did not answer the lookup of {}", aor), {}});
            return;
        }
        std::vector<Write> writes;
        std::vector<Binding> after{binding};
        try {
            writes = self->bind_writes(aor, binding, view, after);
        } catch (const std::exception& error) { // e.g. a record over the size limits
            done({false, fmt::format("cannot bind {}: {}", aor, error.what()), {}});
            return;
        }
        // A notice costs the write a second DHT put and every caching node a
        // read. The first binding of an AOR with no record at all needs none:
        // no node can serve a cached entry for it (an entry is served only
        // once a read gave it a record, lookup_cache.hpp), so every node that
        // routes to it reads the overlay anyway.
        const bool notice = !view.empty();
        self->write(aor, std::move(writes), notice, [aor, after = std::move(after), done](bool stored) {
            if (stored)
                done({true, {}, after});
            else
                done({false, fmt::format("the overlay did not store the binding of {}", aor), {}});
        });
    });
}

void DhtLocation::unbind(const std::string& aor, const std::string& contact, const std::string& instance, Done done)
{
    auto self = shared_;
    self->read_for_write(aor, [self, aor, contact, instance, done](bool ok, View view) {
        if (!ok) {
            done({false, fmt::format("the overlay did not answer the lookup of {}", aor), {}});
            return;
        }
        self->remove(aor, view, [&](const Binding& b) { return same_device(b, contact, instance); }, done);
    });
}

void DhtLocation::unbind_all(const std::string& aor, Done done)
{
    auto self = shared_;
    self->read_for_write(aor, [self, aor, done](bool ok, View view) {
        if (!ok) {
            done({false, fmt::format("the overlay did not answer the lookup of {}", aor), {}});
            return;
        }
        self->remove(aor, view, [](const Binding&) { return true; }, done);
    });
}

void DhtLocation::lookup(const std::string& aor, Done done)
{
    auto self = shared_;
    if (self->cache) {
        if (auto view = self->cache->find(aor)) {
            // At once, on the caller's thread, as MemoryLocation answers: a
            // trip through the loop's mailbox (a wake-up of the SIP thread)
            // showed in the MESSAGE latency tail.
            done({true, {}, self->current(*view)});
            return;
        }
    }
    const auto started = self->cache ? self->cache->now() : LookupCache::Time{};
    self->read(aor, [self, aor, done, started](bool ok, View view) {
        if (!ok) {
            done({false, fmt::format("the overlay did not answer the lookup of {}", aor), {}});
            return;
        }
        if (self->cache)
            self->cache->merge_read(aor, view, started);
        done({true, {}, self->current(view)});
    });
}

std::uint64_t DhtLocation::cache_hits() const
{
    return shared_->cache ? shared_->cache->hits() : 0;
}

std::uint64_t DhtLocation::dropped_forged() const
{
    return shared_->forged.load();
}

std::uint64_t DhtLocation::dropped_malformed() const
{
    return shared_->malformed.load();
}

} // namespace imsp2p::core
