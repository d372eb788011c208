// The overlay key: a 256-bit secret the testbed operator's CA command creates
// beside the CA (overlay.key, 0600) and hands to every core node with its
// certificate. Records in the overlay carry an HMAC-SHA256 under it, so only
// holders of the key write values that readers accept (signed_record.hpp says
// why a MAC and not a signature per value).
#pragma once

#include "util/hex.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

namespace imsp2p::dht {

inline constexpr std::size_t overlay_key_size = 32;
inline constexpr std::size_t overlay_key_id_size = 8;
inline constexpr std::size_t overlay_mac_size = 32;

using OverlayKeyId = std::array<std::uint8_t, overlay_key_id_size>;
using OverlayMac = std::array<std::uint8_t, overlay_mac_size>;

class OverlayKey {
public:
    static OverlayKey generate();
    // The file holds the key in hex on one line. Failure(usage) naming the
    // file when it is unreadable, not 64 hex digits, or readable by others.
    static OverlayKey load(const std::filesystem::path& file);
    void save(const std::filesystem::path& file) const; // 0600; never overwrites

    // Names the key without revealing it (the first bytes of its SHA-256):
    // records say which key they are under, so a reader can tell a record of
    // another overlay from a tampered one.
    const OverlayKeyId& id() const { return id_; }
    // HMAC-SHA256 of `data`; thread-safe, one context copy per call.
    OverlayMac mac(std::span<const std::uint8_t> data) const;

private:
    explicit OverlayKey(const Bytes& key);
    Bytes raw_; // for save() only; never logged
    struct Context;
    std::shared_ptr<const Context> context_; // the keyed HMAC context every call copies
    OverlayKeyId id_{};
};

} // namespace imsp2p::dht
