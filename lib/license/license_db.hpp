// The licence server's own data in SQLite (DESIGN.md §4 "Licences"):
// content keys (sealed under the master key) with their policy, accounts
// (balance, subscription, publisher role) and charging data records.
// Subscribers' credentials live apart, in hss::SubscriberStore.
// One LicenseDb is one connection: use it from one thread at a time.
#pragma once

#include "license/sql.hpp"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::license {

enum class Policy { free, subscription, pay_per_download };

// "free", "subscription", "pay-per-download"; nullopt for anything else.
std::optional<Policy> parse_policy(std::string_view text);
std::string policy_name(Policy policy);

struct Content {
    std::string kid;          // 16 raw bytes
    std::string content_id;   // may be empty
    std::string owner;        // the publisher's IMPI
    std::string sealed_key;   // MasterKey::seal output
    Policy policy = Policy::free;
    std::int64_t price = 0;   // pay-per-download, in the balance's units
};

struct Account {
    std::string impi;
    std::int64_t balance = 0;
    std::int64_t subscribed_until = 0; // Unix seconds; 0: no subscription
    bool publisher = false;
};

struct Cdr {
    std::int64_t id = 0;
    std::string impi, content_id, kid_hex, policy, request_id, time; // time: RFC 3339 UTC, ms
    std::int64_t price = 0;
};

// The schema, created if missing (shared with the CDR writer's connection).
void create_schema(Database& db);

class LicenseDb {
public:
    LicenseDb(const std::filesystem::path& path);
    ~LicenseDb();
    const std::filesystem::path& path() const;

    std::optional<Content> find_content(const std::string& kid);
    void put_content(const Content& content); // insert or replace
    std::optional<Account> find_account(const std::string& impi);

    // Admin edits (each its own transaction).
    void add_balance(const std::string& impi, std::int64_t amount);
    void set_subscription(const std::string& impi, std::int64_t until);
    void set_publisher(const std::string& impi, bool publisher);
    bool set_policy(const std::string& kid, Policy policy, std::int64_t price); // false: unknown KID
    std::vector<Account> accounts();
    std::vector<Content> contents();
    std::vector<Cdr> cdrs(std::int64_t after_id = 0);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Reading connections for concurrent request threads: each request takes
// one for itself and gives it back, so readers never wait for each other
// (WAL: reads run beside each other and beside the CDR writer). A
// connection is opened when none is idle; at most as many as threads ever
// read at once.
class LicenseDbPool {
public:
    explicit LicenseDbPool(std::filesystem::path path) : path_(std::move(path)) {}

    class Lease {
    public:
        Lease(LicenseDbPool& pool, std::unique_ptr<LicenseDb> db) : pool_(pool), db_(std::move(db)) {}
        ~Lease() { pool_.give_back(std::move(db_)); }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        LicenseDb* operator->() const { return db_.get(); }

    private:
        LicenseDbPool& pool_;
        std::unique_ptr<LicenseDb> db_;
    };
    Lease take();

private:
    void give_back(std::unique_ptr<LicenseDb> db);

    std::filesystem::path path_;
    std::mutex mutex_;
    std::vector<std::unique_ptr<LicenseDb>> idle_;
};

} // namespace imsp2p::license
