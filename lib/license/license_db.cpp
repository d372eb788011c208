#include "license/license_db.hpp"

#include "util/hex.hpp"

namespace imsp2p::license {
namespace {

constexpr const char* schema = R"(
CREATE TABLE IF NOT EXISTS content(
  kid        BLOB PRIMARY KEY NOT NULL,  -- 16 bytes
  content_id TEXT NOT NULL DEFAULT '',
  owner      TEXT NOT NULL,              -- the depositing publisher's IMPI
  sealed_key BLOB NOT NULL,              -- AES-256-GCM under the master key, KID as AAD
  policy     TEXT NOT NULL,              -- free, subscription, pay-per-download
  price      INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS account(
  impi             TEXT PRIMARY KEY NOT NULL,
  balance          INTEGER NOT NULL DEFAULT 0,
  subscribed_until INTEGER NOT NULL DEFAULT 0, -- Unix seconds
  publisher        INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS cdr(
  id         INTEGER PRIMARY KEY,
  impi       TEXT NOT NULL,
  content_id TEXT NOT NULL,
  kid        TEXT NOT NULL,  -- hex
  policy     TEXT NOT NULL,
  price      INTEGER NOT NULL,
  time       TEXT NOT NULL,  -- RFC 3339 UTC
  request_id TEXT NOT NULL,
  UNIQUE(impi, request_id)   -- a retried request is never charged twice
);
)";

} // namespace

std::optional<Policy> parse_policy(std::string_view text)
{
    if (text == "free")
        return Policy::free;
    if (text == "subscription")
        return Policy::subscription;
    if (text == "pay-per-download")
        return Policy::pay_per_download;
    return std::nullopt;
}

std::string policy_name(Policy policy)
{
    switch (policy) {
    case Policy::free: return "free";
    case Policy::subscription: return "subscription";
    case Policy::pay_per_download: return "pay-per-download";
    }
    return "free";
}

void create_schema(Database& db) { db.exec(schema); }

struct LicenseDb::Impl {
    std::filesystem::path path;
    Database db;
    Statement find_content, put_content, find_account, add_balance, set_subscription, set_publisher, set_policy,
        accounts, contents, cdrs;

    explicit Impl(const std::filesystem::path& file)
        : path(file), db(file, "FULL"),
          find_content((create_schema(db), db), "SELECT kid, content_id, owner, sealed_key, policy, price FROM content WHERE kid = ?1"),
          put_content(db, "INSERT OR REPLACE INTO content(kid, content_id, owner, sealed_key, policy, price) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"),
          find_account(db, "SELECT impi, balance, subscribed_until, publisher FROM account WHERE impi = ?1"),
          add_balance(db, "INSERT INTO account(impi, balance) VALUES(?1, ?2) "
                          "ON CONFLICT(impi) DO UPDATE SET balance = balance + excluded.balance"),
          set_subscription(db, "INSERT INTO account(impi, subscribed_until) VALUES(?1, ?2) "
                               "ON CONFLICT(impi) DO UPDATE SET subscribed_until = excluded.subscribed_until"),
          set_publisher(db, "INSERT INTO account(impi, publisher) VALUES(?1, ?2) "
                            "ON CONFLICT(impi) DO UPDATE SET publisher = excluded.publisher"),
          set_policy(db, "UPDATE content SET policy = ?2, price = ?3 WHERE kid = ?1"),
          accounts(db, "SELECT impi, balance, subscribed_until, publisher FROM account ORDER BY impi"),
          contents(db, "SELECT kid, content_id, owner, sealed_key, policy, price FROM content ORDER BY content_id, kid"),
          cdrs(db, "SELECT id, impi, content_id, kid, policy, price, time, request_id FROM cdr WHERE id > ?1 ORDER BY id")
    {
    }
};

namespace {

Content read_content(Statement& s)
{
    return Content{s.blob(0), s.text(1), s.text(2), s.blob(3), parse_policy(s.text(4)).value_or(Policy::free), s.integer(5)};
}

Account read_account(Statement& s) { return Account{s.text(0), s.integer(1), s.integer(2), s.integer(3) != 0}; }

} // namespace

LicenseDb::LicenseDb(const std::filesystem::path& path) : impl_(std::make_unique<Impl>(path)) {}
LicenseDb::~LicenseDb() = default;

const std::filesystem::path& LicenseDb::path() const { return impl_->path; }

LicenseDbPool::Lease LicenseDbPool::take()
{
    {
        std::lock_guard lock(mutex_);
        if (!idle_.empty()) {
            auto db = std::move(idle_.back());
            idle_.pop_back();
            return Lease(*this, std::move(db));
        }
    }
    return Lease(*this, std::make_unique<LicenseDb>(path_));
}

void LicenseDbPool::give_back(std::unique_ptr<LicenseDb> db)
{
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(db));
}

std::optional<Content> LicenseDb::find_content(const std::string& kid)
{
    auto& s = impl_->find_content.reset().bind_blob(1, kid);
    if (!s.step())
        return std::nullopt;
    auto content = read_content(s);
    s.reset(); // an open statement would pin a stale snapshot and block writes
    return content;
}

void LicenseDb::put_content(const Content& c)
{
    auto& s = impl_->put_content.reset();
    s.bind_blob(1, c.kid).bind(2, c.content_id).bind(3, c.owner).bind_blob(4, c.sealed_key).bind(5, policy_name(c.policy));
    s.bind(6, c.price).step();
}

std::optional<Account> LicenseDb::find_account(const std::string& impi)
{
    auto& s = impl_->find_account.reset().bind(1, impi);
    if (!s.step())
        return std::nullopt;
    auto account = read_account(s);
    s.reset();
    return account;
}

void LicenseDb::add_balance(const std::string& impi, std::int64_t amount)
{
    impl_->add_balance.reset().bind(1, impi).bind(2, amount).step();
}

void LicenseDb::set_subscription(const std::string& impi, std::int64_t until)
{
    impl_->set_subscription.reset().bind(1, impi).bind(2, until).step();
}

void LicenseDb::set_publisher(const std::string& impi, bool publisher)
{
    impl_->set_publisher.reset().bind(1, impi).bind(2, std::int64_t{publisher ? 1 : 0}).step();
}

bool LicenseDb::set_policy(const std::string& kid, Policy policy, std::int64_t price)
{
    impl_->set_policy.reset().bind_blob(1, kid).bind(2, policy_name(policy)).bind(3, price).step();
    return impl_->db.changes() > 0;
}

std::vector<Account> LicenseDb::accounts()
{
    std::vector<Account> out;
    auto& s = impl_->accounts.reset();
    while (s.step())
        out.push_back(read_account(s));
    return out;
}

std::vector<Content> LicenseDb::contents()
{
    std::vector<Content> out;
    auto& s = impl_->contents.reset();
    while (s.step())
        out.push_back(read_content(s));
    return out;
}

std::vector<Cdr> LicenseDb::cdrs(std::int64_t after_id)
{
    std::vector<Cdr> out;
    auto& s = impl_->cdrs.reset().bind(1, after_id);
    while (s.step()) {
        Cdr cdr;
        cdr.id = s.integer(0);
        cdr.impi = s.text(1);
        cdr.content_id = s.text(2);
        cdr.kid_hex = s.text(3);
        cdr.policy = s.text(4);
        cdr.price = s.integer(5);
        cdr.time = s.text(6);
        cdr.request_id = s.text(7);
        out.push_back(std::move(cdr));
    }
    return out;
}

} // namespace imsp2p::license
