// Content keys at rest: each key is sealed with AES-256-GCM under the
// server's master key, with the KID as associated data, so a database copy
// alone gives no key and a sealed key moved to another KID does not open.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace imsp2p::license {

class MasterKey {
public:
    // Reads the key (64 hex digits) from `file`; when the file does not
    // exist, creates it (mode 0600) with a fresh random key. Failure(usage)
    // for a malformed file, Failure(local) when it cannot be written.
    static MasterKey load_or_create(const std::filesystem::path& file);
    explicit MasterKey(std::string raw) : raw_(std::move(raw)) {}

    // nonce(12) ‖ ciphertext ‖ tag(16).
    std::string seal(const std::string& kid, const std::string& key) const;
    // nullopt when the tag does not verify (wrong master key, tampered row).
    std::optional<std::string> open(const std::string& kid, const std::string& sealed) const;

private:
    std::string raw_; // 32 bytes, a secret: never logged
};

} // namespace imsp2p::license
