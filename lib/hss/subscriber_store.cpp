#include "hss/subscriber_store.hpp"

#include "aka/aka.hpp"
#include "cli/outcome.hpp"
#include "sip/uri.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

namespace imsp2p::hss {
namespace {

// SEQ is 43 bits: SQN is 48 bits, of which IND takes 5.
constexpr std::uint64_t seq_max = aka::sqn_max >> aka::ind_bits;

constexpr const char* schema = R"(
CREATE TABLE IF NOT EXISTS subscriber(
  impi     TEXT PRIMARY KEY NOT NULL,
  impus    TEXT NOT NULL,              -- ';'-separated, as in the CSV
  auth     TEXT NOT NULL,              -- md5 or aka
  password TEXT NOT NULL DEFAULT '',
  k        BLOB,
  opc      BLOB,
  amf      BLOB,
  seq      INTEGER NOT NULL DEFAULT 0, -- the last SEQ handed out
  active   INTEGER NOT NULL DEFAULT 1  -- 0: no longer in the CSV, kept for its SEQ
);
CREATE TABLE IF NOT EXISTS impu(
  key  TEXT PRIMARY KEY NOT NULL,      -- impu_key(): canonical AOR
  impi TEXT NOT NULL
);
)";

constexpr const char* select_columns = "s.impi, s.impus, s.auth, s.password, s.k, s.opc, s.amf, s.seq";

// A prepared statement kept for the life of the store.
class Statement {
public:
    Statement(sqlite3* db, const std::string& sql) : db_(db)
    {
        if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK)
            throw Failure(Outcome::local, fmt::format("subscriber database: {}", sqlite3_errmsg(db)));
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // One execution: bind, step, read; reset when the scope ends.
    class Run {
    public:
        explicit Run(const Statement& statement) : s_(statement) {}
        ~Run()
        {
            sqlite3_reset(s_.stmt_);
            sqlite3_clear_bindings(s_.stmt_);
        }
        Run(const Run&) = delete;
        Run& operator=(const Run&) = delete;

        Run& text(int index, const std::string& value)
        {
            check(sqlite3_bind_text(s_.stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT));
            return *this;
        }
        Run& blob(int index, const std::uint8_t* data, std::size_t size)
        {
            check(size ? sqlite3_bind_blob(s_.stmt_, index, data, static_cast<int>(size), SQLITE_TRANSIENT)
                       : sqlite3_bind_null(s_.stmt_, index));
            return *this;
        }
        Run& integer(int index, std::uint64_t value)
        {
            check(sqlite3_bind_int64(s_.stmt_, index, static_cast<sqlite3_int64>(value)));
            return *this;
        }
        // True while there is a row to read; false when done.
        bool step()
        {
            const int rc = sqlite3_step(s_.stmt_);
            if (rc == SQLITE_ROW)
                return true;
            check(rc == SQLITE_DONE ? SQLITE_OK : rc);
            return false;
        }
        std::string column_text(int index) const
        {
            const auto* text = sqlite3_column_text(s_.stmt_, index);
            return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(sqlite3_column_bytes(s_.stmt_, index)))
                        : std::string();
        }
        Bytes column_blob(int index) const
        {
            const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_.stmt_, index));
            return data ? Bytes(data, data + sqlite3_column_bytes(s_.stmt_, index)) : Bytes();
        }
        std::uint64_t column_integer(int index) const
        {
            return static_cast<std::uint64_t>(sqlite3_column_int64(s_.stmt_, index));
        }

    private:
        void check(int rc) const
        {
            if (rc != SQLITE_OK)
                throw Failure(Outcome::local, fmt::format("subscriber database: {}", sqlite3_errmsg(s_.db_)));
        }
        const Statement& s_;
    };

private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

template <size_t N>
std::array<std::uint8_t, N> fixed(const Bytes& bytes)
{
    std::array<std::uint8_t, N> out{};
    std::copy_n(bytes.begin(), std::min(N, bytes.size()), out.begin());
    return out;
}

std::vector<std::string> split_impus(const std::string& text)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t end = std::min(text.find(';', start), text.size());
        if (end > start)
            out.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

Record read_record(const Statement::Run& run)
{
    Record record;
    record.impi = run.column_text(0);
    record.impus = split_impus(run.column_text(1));
    record.auth = run.column_text(2) == "aka" ? subscriber::AuthScheme::aka : subscriber::AuthScheme::md5;
    record.password = run.column_text(3);
    record.k = fixed<16>(run.column_blob(4));
    record.opc = fixed<16>(run.column_blob(5));
    record.amf = fixed<2>(run.column_blob(6));
    record.seq = run.column_integer(7);
    return record;
}

} // namespace

std::string impu_key(const std::string& impu)
{
    if (impu.starts_with("sip:") || impu.starts_with("sips:"))
        return sip::canonical_aor(sip::parse_sip_uri(impu, "a public identity", true));
    return impu;
}

struct SubscriberStore::Impl {
    sqlite3* db = nullptr;
    std::filesystem::path path;
    std::unique_ptr<Statement> begin, commit, deactivate, clear_impus, upsert, add_impu, find, find_by_impu, take_seq,
        resync;

    ~Impl()
    {
        // Statements are finalised before the connection closes.
        for (auto* statement : {&begin, &commit, &deactivate, &clear_impus, &upsert, &add_impu, &find, &find_by_impu,
                                &take_seq, &resync})
            statement->reset();
        sqlite3_close(db);
    }

    void exec(const char* sql) const
    {
        char* error = nullptr;
        if (sqlite3_exec(db, sql, nullptr, nullptr, &error) != SQLITE_OK) {
            const std::string message = error ? error : sqlite3_errmsg(db);
            sqlite3_free(error);
            throw Failure(Outcome::local, fmt::format("subscriber database {}: {}", path.string(), message));
        }
    }
    void run(const Statement& statement) const
    {
        Statement::Run(statement).step();
    }
};

SubscriberStore::SubscriberStore(const std::filesystem::path& path) : impl_(std::make_unique<Impl>())
{
    impl_->path = path;
    // Credentials are secrets: create the file readable by its owner only
    // (SQLite gives its -wal and -shm files the same permissions).
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Failure(Outcome::local, fmt::format("cannot open subscriber database {}: {}", path.string(), std::strerror(errno)));
    ::close(fd);
    if (sqlite3_open_v2(path.c_str(), &impl_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK) {
        const std::string message = impl_->db ? sqlite3_errmsg(impl_->db) : "out of memory";
        throw Failure(Outcome::local, fmt::format("cannot open subscriber database {}: {}", path.string(), message));
    }
    // On a throw, the member impl_ is destroyed, which closes the connection.
    sqlite3_busy_timeout(impl_->db, 5000);
    // WAL with synchronous=NORMAL: a commit is in the WAL file before it
    // returns, so a crash or kill of this process never loses a SEQ. Only an
    // OS crash or power loss can lose the last commits; an SQN handed out
    // again then is one the USIM has seen, which it refuses as not fresh and
    // repairs with AUTS (TS 33.102 §6.3.5): no security loss. FULL would
    // fsync each challenge: 8 times slower here (240 against 29 µs).
    impl_->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    impl_->exec(schema);
    auto prepare = [this](const std::string& sql) { return std::make_unique<Statement>(impl_->db, sql); };
    impl_->begin = prepare("BEGIN IMMEDIATE");
    impl_->commit = prepare("COMMIT");
    impl_->deactivate = prepare("UPDATE subscriber SET active = 0");
    impl_->clear_impus = prepare("DELETE FROM impu");
    impl_->upsert = prepare(
        "INSERT INTO subscriber(impi, impus, auth, password, k, opc, amf, seq, active) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1) ON CONFLICT(impi) DO UPDATE SET "
        "impus = excluded.impus, auth = excluded.auth, password = excluded.password, k = excluded.k, "
        "opc = excluded.opc, amf = excluded.amf, seq = max(seq, excluded.seq), active = 1");
    impl_->add_impu = prepare("INSERT INTO impu(key, impi) VALUES(?1, ?2)");
    impl_->find = prepare(fmt::format("SELECT {} FROM subscriber s WHERE s.impi = ?1 AND s.active", select_columns));
    impl_->find_by_impu = prepare(fmt::format(
        "SELECT {} FROM impu i JOIN subscriber s ON s.impi = i.impi WHERE i.key = ?1 AND s.active", select_columns));
    // One statement, so one transaction: the new SEQ is committed before it is returned.
    impl_->take_seq = prepare("UPDATE subscriber SET seq = seq + 1 WHERE impi = ?1 AND active AND seq < ?2 RETURNING seq");
    impl_->resync = prepare("UPDATE subscriber SET seq = max(seq, ?2) WHERE impi = ?1");
}

SubscriberStore::~SubscriberStore() = default;

void SubscriberStore::import(const std::vector<subscriber::Subscriber>& rows)
{
    // Check every row before touching the database.
    std::map<std::string, const subscriber::Subscriber*> owner;
    for (const auto& row : rows)
        for (const auto& impu : row.impus) {
            std::string key;
            try {
                key = impu_key(impu);
            } catch (const Failure& failure) {
                throw Failure(Outcome::usage, fmt::format("subscriber {} (line {}): {}", row.impi, row.line, failure.what()));
            }
            auto [it, inserted] = owner.emplace(key, &row);
            if (!inserted && it->second != &row)
                throw Failure(Outcome::usage, fmt::format("subscriber {} (line {}): public identity {} already belongs to {} (line {})",
                                                          row.impi, row.line, impu, it->second->impi, it->second->line));
        }

    impl_->run(*impl_->begin);
    try {
        impl_->run(*impl_->deactivate);
        impl_->run(*impl_->clear_impus);
        for (const auto& row : rows) {
            std::string impus;
            for (const auto& impu : row.impus)
                impus += (impus.empty() ? "" : ";") + impu;
            const bool aka_row = row.auth == subscriber::AuthScheme::aka;
            aka::Block opc{};
            std::uint64_t seq = 0;
            if (aka_row) {
                const aka::Block k = aka::to_block(row.k, "k");
                opc = row.opc.empty() ? aka::Milenage::opc_from_op(k, aka::to_block(row.op, "op")) : aka::to_block(row.opc, "opc");
                seq = aka::seq_of(aka::sqn_to_int(aka::to_sqn(row.sqn, "sqn")));
            }
            Statement::Run upsert(*impl_->upsert);
            upsert.text(1, row.impi).text(2, impus).text(3, aka_row ? "aka" : "md5").text(4, row.password);
            upsert.blob(5, row.k.data(), aka_row ? row.k.size() : 0);
            upsert.blob(6, opc.data(), aka_row ? opc.size() : 0);
            upsert.blob(7, row.amf.data(), aka_row ? row.amf.size() : 0);
            upsert.integer(8, seq);
            upsert.step();
        }
        for (const auto& [key, row] : owner)
            Statement::Run(*impl_->add_impu).text(1, key).text(2, row->impi).step();
        impl_->run(*impl_->commit);
    } catch (...) {
        sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr); // keeps the first error
        throw;
    }
}

std::optional<Record> SubscriberStore::find(const std::string& impi) const
{
    Statement::Run run(*impl_->find);
    run.text(1, impi);
    if (!run.step())
        return std::nullopt;
    return read_record(run);
}

std::optional<Record> SubscriberStore::find_by_impu(const std::string& impu) const
{
    Statement::Run run(*impl_->find_by_impu);
    run.text(1, impu);
    if (!run.step())
        return std::nullopt;
    return read_record(run);
}

std::uint64_t SubscriberStore::take_next_sqn(const std::string& impi, unsigned ind)
{
    Statement::Run run(*impl_->take_seq);
    run.text(1, impi).integer(2, seq_max);
    if (!run.step())
        throw Failure(Outcome::local, fmt::format("no SQN left for {} (unknown, or SEQ exhausted)", impi));
    const std::uint64_t seq = run.column_integer(0);
    // RETURNING hands the row out before the statement completes: finish it,
    // which commits, before the SQN leaves this function.
    while (run.step()) {
    }
    return aka::make_sqn(seq, ind % aka::ind_count);
}

void SubscriberStore::resync(const std::string& impi, std::uint64_t seq_ms)
{
    Statement::Run(*impl_->resync).text(1, impi).integer(2, std::min(seq_ms, seq_max - 1)).step();
}

} // namespace imsp2p::hss
