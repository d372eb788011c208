// The HSS role's subscriber data: credentials imported from the subscriber
// CSV (DESIGN.md §4) into SQLite, with the AKA sequence counter SEQ kept there
// so that no SQN is ever handed out twice, across restarts included.
// Not thread-safe: one store is used from one event loop.
#pragma once

#include "aka/milenage.hpp"
#include "subscriber/subscriber.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::hss {

// One subscriber as the core node uses it. OPc is always there for AKA rows
// (derived from OP at import when the CSV gives OP).
struct Record {
    std::string impi;
    std::vector<std::string> impus; // as written in the CSV, the first is the default
    subscriber::AuthScheme auth = subscriber::AuthScheme::md5;
    std::string password;           // md5 rows
    aka::Block k{};
    aka::Block opc{};
    aka::Amf amf{};
    std::uint64_t seq = 0;          // the last SEQ handed out (SQN = SEQ ‖ IND)
};

// The key a public identity is found by: the canonical AOR of sip:/sips: URIs
// (sip:alice@ims.test), other URIs (tel:) as written.
std::string impu_key(const std::string& impu);

class SubscriberStore {
public:
    // Opens or creates the database (Failure(local) when it cannot).
    explicit SubscriberStore(const std::filesystem::path& path);
    ~SubscriberStore();
    SubscriberStore(const SubscriberStore&) = delete;
    SubscriberStore& operator=(const SubscriberStore&) = delete;

    // Makes the CSV rows the provisioned subscribers, in one transaction:
    // new rows are added, existing ones get the CSV's credentials, rows no
    // longer in the CSV stop being found (their SEQ is kept, in case they
    // come back). SEQ becomes max(stored SEQ, SEQ of the CSV's SQN), never
    // lower. Failure(usage) naming the CSV line when two rows claim one IMPU.
    void import(const std::vector<subscriber::Subscriber>& rows);

    std::optional<Record> find(const std::string& impi) const;
    // The subscriber owning a public identity, by impu_key().
    std::optional<Record> find_by_impu(const std::string& impu) const;

    // Increments SEQ and commits it before returning SQN = SEQ ‖ ind, so
    // that a restart, after a crash or a kill too, never hands it out again.
    // Failure(local) for an unknown IMPI or when SEQ is exhausted.
    std::uint64_t take_next_sqn(const std::string& impi, unsigned ind);
    // After a resynchronisation: SEQ = max(SEQ, seq_ms), the UE's highest SEQ.
    void resync(const std::string& impi, std::uint64_t seq_ms);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace imsp2p::hss
