// A thin RAII layer over SQLite for the licence database: one connection,
// prepared statements, errors as Failure(local) naming the database.
// A Database is used from one thread at a time.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace imsp2p::license {

class Database {
public:
    // Opens or creates the file with mode 0600 (it holds wrapped keys and
    // balances), WAL mode, the given synchronous level ("FULL", "NORMAL").
    Database(const std::filesystem::path& path, const char* synchronous);
    ~Database();
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(const char* sql);
    sqlite3* handle() const { return db_; }
    [[noreturn]] void fail() const;
    int changes() const;
    std::int64_t last_insert_rowid() const;

private:
    sqlite3* db_ = nullptr;
    std::string name_;
};

// A prepared statement; run() binds and steps, reset happens on the next run.
class Statement {
public:
    Statement(Database& db, const char* sql);
    ~Statement();
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    Statement& reset(); // before binding a new run
    Statement& bind(int index, std::string_view text);
    Statement& bind_blob(int index, std::string_view bytes);
    Statement& bind(int index, std::int64_t value);
    bool step(); // true: a row is there
    std::string text(int column) const;
    std::string blob(int column) const;
    std::int64_t integer(int column) const;
    bool is_null(int column) const;

private:
    Database& db_;
    sqlite3_stmt* stmt_ = nullptr;
};

} // namespace imsp2p::license
