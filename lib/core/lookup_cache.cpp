#include "core/lookup_cache.hpp"

#include <algorithm>
#include <ctime>
#include <vector>

namespace imsp2p::core {
namespace {

// Records past their signed expiry (bindings and tombstones alike) leave the
// view, so a device that registers from a new contact each time cannot grow it.
void prune(BindingView& view)
{
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    std::erase_if(view, [now](const auto& slot) { return slot.second.expires < now; });
}

// True when a binding in the view ended though its record did not say so:
// refreshed elsewhere (a notice lost), or gone.
bool outlived(const BindingView& view)
{
    const auto now = Clock::now();
    const auto here = host_clock_now();
    return std::any_of(view.begin(), view.end(),
                       [&](const auto& slot) { return !slot.second.removed && slot_end(slot.second, here) <= now; });
}

} // namespace

std::string notice_key(const std::string& aor)
{
    return "changed:" + aor;
}

LookupCache::LookupCache(dht::OverlayNode& overlay, Classify classify, Reread reread, Announce announce,
                         LookupCacheConfig config)
    : overlay_(overlay), classify_(std::move(classify)), reread_(std::move(reread)), announce_(std::move(announce)),
      config_(std::move(config))
{
}

LookupCache::~LookupCache()
{
    std::vector<std::uint64_t> listens;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [aor, entry] : entries_)
            if (entry.listen)
                listens.push_back(entry.listen);
        entries_.clear();
    }
    for (const auto handle : listens)
        overlay_.unlisten(handle); // no push runs after this
}

std::optional<BindingView> LookupCache::find(const std::string& aor)
{
    bool refresh_due = false, announce_due = false;
    std::optional<BindingView> view;
    {
        std::lock_guard lock(mutex_);
        const auto found = entries_.find(aor);
        if (found == entries_.end()) {
            ++misses_;
            return std::nullopt;
        }
        auto& entry = found->second;
        const auto now = config_.clock();
        // Renewed from half its life, while the entry is used; once it is
        // about to lapse, writers may no longer count this node.
        if (!entry.announcing && entry.listen &&
            (!entry.announced_at || now - *entry.announced_at >= config_.interest / 2)) { // a failed first put too
            entry.announcing = true;
            announce_due = true;
        }
        const bool interested = entry.interest_until && now < *entry.interest_until;
        if (!entry.servable || !interested || outlived(entry.view)) {
            ++misses_;
        } else {
            lru_.splice(lru_.begin(), lru_, entry.lru);
            ++hits_;
            refresh_due = now - entry.read_at >= config_.refresh;
            if (refresh_due)
                entry.read_at = now; // one background read per period, not one per lookup
            view = entry.view;
        }
    }
    if (announce_due)
        announce(aor);
    if (refresh_due)
        reread_(aor);
    return view;
}

void LookupCache::announce(const std::string& aor)
{
    const auto at = config_.clock();
    announce_(aor, [this, aor, at](bool ok) { announced(aor, ok, at); });
}

void LookupCache::announced(const std::string& aor, bool ok, Time at)
{
    bool reread = false;
    {
        std::lock_guard lock(mutex_);
        const auto found = entries_.find(aor);
        if (found == entries_.end())
            return;
        auto& entry = found->second;
        entry.announcing = false;
        if (!ok)
            return; // the next find tries again
        const auto now = config_.clock();
        entry.announced_at = at;
        if (!entry.interest_until || now >= *entry.interest_until) {
            // New or lapsed: writes made before writers saw the record may be
            // missing from the view, so only a read from now on makes it servable.
            entry.interest_since = now;
            entry.servable = false;
            reread = true;
        }
        entry.interest_until = at + config_.interest - config_.margin;
    }
    if (reread)
        reread_(aor);
}

bool LookupCache::must_notify(const std::string& aor) const
{
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(aor);
    return found == entries_.end() || !found->second.own_seen || !found->second.cachers.empty();
}

void LookupCache::merge_read(const std::string& aor, const BindingView& view, Time started)
{
    if (config_.capacity == 0)
        return;
    std::uint64_t evicted_listen = 0;
    bool new_entry = false;
    {
        std::lock_guard lock(mutex_);
        auto found = entries_.find(aor);
        if (found == entries_.end()) {
            if (entries_.size() >= config_.capacity) {
                const auto oldest = entries_.find(lru_.back());
                evicted_listen = oldest->second.listen;
                entries_.erase(oldest);
                lru_.pop_back();
            }
            lru_.push_front(aor);
            found = entries_.emplace(aor, Entry{}).first;
            found->second.lru = lru_.begin();
            new_entry = true;
        }
        auto& entry = found->second;
        merge_view(entry.view, view);
        prune(entry.view);
        entry.servable = !entry.view.empty() && entry.interest_since && started >= *entry.interest_since;
        entry.read_at = config_.clock();
        if (new_entry)
            entry.announcing = true;
    }
    if (evicted_listen)
        overlay_.unlisten(evicted_listen);
    if (!new_entry)
        return;
    // Outside the lock: a push takes it, and listen() may not be re-entered.
    const auto handle = overlay_.listen(notice_key(aor), [this, aor](std::vector<dht::RawValue> values, bool expired) {
        pushed(aor, values, expired);
    });
    bool kept = false;
    {
        std::lock_guard lock(mutex_);
        const auto found = entries_.find(aor);
        if (found != entries_.end() && found->second.listen == 0) {
            found->second.listen = handle;
            kept = true;
        }
    }
    if (!kept && handle) // evicted meanwhile, or listened to by a racing read
        overlay_.unlisten(handle);
    if (kept)
        announce(aor);
}

void LookupCache::merge_written(const std::string& aor, const BindingView& view)
{
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(aor);
    if (found == entries_.end())
        return;
    merge_view(found->second.view, view); // servable or not as before: a pending notice still counts
    prune(found->second.view);
}

void LookupCache::pushed(const std::string& aor, const std::vector<dht::RawValue>& values, bool expired)
{
    // On OpenDHT's thread. A notice leaving the storing nodes says nothing;
    // a cacher record leaving them stops the notices. A new notice makes the
    // entry read again. Checked before the lock.
    if (expired) {
        std::lock_guard lock(mutex_);
        const auto found = entries_.find(aor);
        if (found != entries_.end())
            for (const auto& value : values)
                found->second.cachers.erase(value.id);
        return;
    }
    const auto seen = classify_(notice_key(aor), values);
    {
        std::lock_guard lock(mutex_);
        const auto found = entries_.find(aor);
        if (found == entries_.end())
            return;
        auto& entry = found->second;
        entry.cachers.insert(seen.cachers.begin(), seen.cachers.end());
        entry.own_seen = entry.own_seen || seen.own;
        if (!seen.notice)
            return;
        entry.servable = false;
    }
    reread_(aor);
}

std::size_t LookupCache::size() const
{
    std::lock_guard lock(mutex_);
    return entries_.size();
}

std::uint64_t LookupCache::hits() const
{
    std::lock_guard lock(mutex_);
    return hits_;
}

std::uint64_t LookupCache::misses() const
{
    std::lock_guard lock(mutex_);
    return misses_;
}

} // namespace imsp2p::core
