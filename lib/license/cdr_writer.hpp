// Charging with group commit: grants from all request threads queue here;
// one thread writes each waiting batch in a single SQLite transaction with
// synchronous=FULL (balance debit and CDR together) and only then answers
// the batch's waiters. A key thus never leaves before its CDR is durable,
// while one fsync serves every request that arrived during the previous one.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace imsp2p::license {

struct Grant {
    std::string impi, content_id, kid_hex, policy, request_id;
    std::int64_t price = 0; // debited from the balance when > 0
};

enum class Charge {
    charged,      // every grant's CDR is durable: written now, or before for this request id (a retry, not charged again)
    insufficient, // the balance is short of the price: 402
    conflict,     // this request id was used for another KID: 409
    error,        // the transaction failed: 503, no key
};

class CdrWriter {
public:
    // Opens its own connection to `path`. `crash_after_commit`: a test hook
    // that kills the process with SIGKILL right after a commit, before any
    // waiter hears of it (the worst moment for a crash).
    CdrWriter(const std::filesystem::path& path, std::size_t max_batch, bool crash_after_commit = false);
    ~CdrWriter(); // drains the queue, then joins

    // The grants of one request, charged all or nothing: the result is
    // charged (each grant new or a duplicate), or the first refusal, and
    // then none of them is charged. `done` runs on the writer thread once
    // the batch is committed (or failed): keep it short, post real work on.
    using Done = std::function<void(Charge)>;
    void submit(std::vector<Grant> grants, Done done);
    std::future<Charge> submit(std::vector<Grant> grants); // the same, waited for

    // Charges what is queued, then stops: later submits get Charge::error.
    // The destructor calls it; call it sooner when `done` callbacks use
    // something that dies first.
    void close();

    std::uint64_t batches() const;
    std::uint64_t rows() const;

private:
    struct Item {
        std::vector<Grant> grants;
        Done done;
    };
    void loop(const std::filesystem::path& path);

    std::size_t max_batch_;
    bool crash_after_commit_;
    mutable std::mutex mutex_;
    std::condition_variable wake_;
    std::vector<Item> queue_;
    bool stopping_ = false;
    std::uint64_t batches_ = 0, rows_ = 0;
    std::promise<void> ready_;
    std::thread thread_;
};

} // namespace imsp2p::license
