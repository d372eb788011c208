#include "license/cdr_writer.hpp"

#include "cli/output.hpp"
#include "license/license_db.hpp"
#include "license/sql.hpp"

#include <spdlog/spdlog.h>

#include <csignal>

namespace imsp2p::license {

CdrWriter::CdrWriter(const std::filesystem::path& path, std::size_t max_batch, bool crash_after_commit)
    : max_batch_(max_batch ? max_batch : 1), crash_after_commit_(crash_after_commit)
{
    auto ready = ready_.get_future();
    thread_ = std::thread([this, path] { loop(path); });
    try {
        ready.get(); // the database opened, or its Failure is rethrown here
    } catch (...) {
        thread_.join();
        throw;
    }
}

CdrWriter::~CdrWriter()
{
    close();
}

void CdrWriter::close()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_one();
    if (thread_.joinable())
        thread_.join();
}

void CdrWriter::submit(std::vector<Grant> grants, Done done)
{
    {
        std::lock_guard lock(mutex_);
        if (!stopping_) {
            queue_.push_back(Item{std::move(grants), std::move(done)});
            done = nullptr;
        }
    }
    if (done)
        done(Charge::error);
    else
        wake_.notify_one();
}

std::future<Charge> CdrWriter::submit(std::vector<Grant> grants)
{
    auto promise = std::make_shared<std::promise<Charge>>();
    auto future = promise->get_future();
    submit(std::move(grants), [promise](Charge charge) { promise->set_value(charge); });
    return future;
}

std::uint64_t CdrWriter::batches() const
{
    std::lock_guard lock(mutex_);
    return batches_;
}

std::uint64_t CdrWriter::rows() const
{
    std::lock_guard lock(mutex_);
    return rows_;
}

void CdrWriter::loop(const std::filesystem::path& path)
{
    std::unique_ptr<Database> db;
    std::unique_ptr<Statement> begin, commit, rollback, savepoint, rollback_to, release, find, debit, insert, undo;
    try {
        db = std::make_unique<Database>(path, "FULL"); // a commit is on disk when COMMIT returns
        create_schema(*db);
        begin = std::make_unique<Statement>(*db, "BEGIN IMMEDIATE");
        commit = std::make_unique<Statement>(*db, "COMMIT");
        rollback = std::make_unique<Statement>(*db, "ROLLBACK");
        savepoint = std::make_unique<Statement>(*db, "SAVEPOINT request");
        rollback_to = std::make_unique<Statement>(*db, "ROLLBACK TO request");
        release = std::make_unique<Statement>(*db, "RELEASE request");
        find = std::make_unique<Statement>(*db, "SELECT kid FROM cdr WHERE impi = ?1 AND request_id = ?2");
        debit = std::make_unique<Statement>(
            *db, "UPDATE account SET balance = balance - ?2 WHERE impi = ?1 AND balance >= ?2");
        insert = std::make_unique<Statement>(
            *db, "INSERT INTO cdr(impi, content_id, kid, policy, price, time, request_id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                 "ON CONFLICT(impi, request_id) DO NOTHING");
        undo = std::make_unique<Statement>(*db, "DELETE FROM cdr WHERE id = ?1");
        ready_.set_value();
    } catch (...) {
        ready_.set_exception(std::current_exception());
        return;
    }

    std::vector<Item> batch;
    std::vector<Charge> results;
    while (true) {
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (queue_.empty())
                return; // stopping, nothing left
            const size_t n = std::min(queue_.size(), max_batch_);
            batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + static_cast<long>(n)));
            queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(n));
        }
        results.assign(batch.size(), Charge::error);
        std::size_t inserted = 0;
        try {
            begin->reset().step();
            const std::string now = cli::rfc3339_now();
            for (size_t i = 0; i < batch.size(); ++i) {
                // A savepoint per request of several grants: a refusal undoes
                // the others. A single grant is undone by deleting its row.
                const bool several = batch[i].grants.size() > 1;
                if (several)
                    savepoint->reset().step();
                Charge result = Charge::charged;
                std::size_t added = 0;
                for (const Grant& g : batch[i].grants) {
                    // Most grants are new: insert first, and only when the
                    // request id is there already (a retry, in this batch too)
                    // look at what it was granted for.
                    insert->reset().bind(1, g.impi).bind(2, g.content_id).bind(3, g.kid_hex).bind(4, g.policy);
                    insert->bind(5, g.price).bind(6, now).bind(7, g.request_id).step();
                    if (db->changes() == 0) {
                        const bool same = find->reset().bind(1, g.impi).bind(2, g.request_id).step() && find->text(0) == g.kid_hex;
                        find->reset();
                        if (same)
                            continue; // granted again, charged once
                        result = Charge::conflict;
                        break;
                    }
                    ++added;
                    if (g.price > 0) {
                        debit->reset().bind(1, g.impi).bind(2, g.price).step();
                        if (db->changes() == 0) {
                            result = Charge::insufficient;
                            break;
                        }
                    }
                }
                if (result != Charge::charged) {
                    if (several)
                        rollback_to->reset().step();
                    else if (added)
                        undo->reset().bind(1, db->last_insert_rowid()).step();
                    added = 0;
                }
                if (several)
                    release->reset().step();
                results[i] = result;
                inserted += added;
            }
            commit->reset().step();
        } catch (const std::exception& error) {
            spdlog::error("charging transaction failed, {} grant(s) refused: {}", batch.size(), error.what());
            try {
                rollback->reset().step();
            } catch (const std::exception&) {
            }
            results.assign(batch.size(), Charge::error);
            inserted = 0;
        }
        if (crash_after_commit_ && inserted > 0)
            std::raise(SIGKILL); // test hook: durable CDRs, no answer sent yet
        {
            std::lock_guard lock(mutex_);
            ++batches_;
            rows_ += inserted;
        }
        for (size_t i = 0; i < batch.size(); ++i)
            batch[i].done(results[i]);
        batch.clear();
    }
}

} // namespace imsp2p::license
