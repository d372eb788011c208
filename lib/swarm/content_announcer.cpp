#include "swarm/content_announcer.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace imsp2p::swarm {

ContentAnnouncer::ContentAnnouncer(const dht::ContentClientOptions& options, dht::Credential publisher,
                                   dht::ContentInfo info, std::chrono::seconds lifetime)
    : client_(options), signer_(std::move(publisher)), info_(std::move(info)), lifetime_(lifetime)
{
}

ContentAnnouncer::~ContentAnnouncer()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable())
        refresher_.join();
}

dht::ContentRecord ContentAnnouncer::publish()
{
    using namespace std::chrono;
    const auto now = system_clock::now();
    dht::ContentRecord record{info_, static_cast<std::uint64_t>(duration_cast<milliseconds>(now.time_since_epoch()).count()),
                              duration_cast<seconds>(now.time_since_epoch()).count() + lifetime_.count()};
    const auto encoded = signer_.sign(record);
    if (!client_.publish(encoded, info_.content_id, signer_.name()))
        throw Failure(Outcome::no_answer,
                      fmt::format("no overlay node acknowledged the content record of {} in time", info_.content_id));
    // What the overlay will hand readers: checked like any reader would.
    auto checked = client_.verifier().check(encoded, info_.content_id, std::time(nullptr));
    return checked.ok() ? checked.record : record;
}

void ContentAnnouncer::keep_fresh()
{
    refresher_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, lifetime_ / 2, [this] { return stopping_; })) {
            lock.unlock();
            try {
                const auto record = publish();
                spdlog::info("content record of {} published again, expires in {} s", info_.content_id,
                             record.expires - std::time(nullptr));
            } catch (const std::exception& error) {
                spdlog::warn("{}; retrying in {} s", error.what(), (lifetime_ / 2).count());
            }
            lock.lock();
        }
    });
}

} // namespace imsp2p::swarm
