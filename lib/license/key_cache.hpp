// Content keys unsealed once and kept in memory: AES-GCM with a fresh
// cipher context per licence was a visible share of a licence's CPU. The
// database keeps only sealed keys (key_wrap.hpp). An entry is used only
// while the sealed text it came from is still the KID's (a publisher's new
// deposit changes it), so the cache never answers with a replaced key.
// Thread-safe.
#pragma once

#include "license/key_wrap.hpp"

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace imsp2p::license {

class KeyCache {
public:
    explicit KeyCache(const MasterKey& master, std::size_t capacity = 100'000) : master_(master), capacity_(capacity) {}

    // MasterKey::open, remembered.
    std::optional<std::string> open(const std::string& kid, const std::string& sealed);

private:
    struct Entry {
        std::string sealed, key;
    };
    const MasterKey& master_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> keys_; // by KID
};

} // namespace imsp2p::license
