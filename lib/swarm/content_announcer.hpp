// swarm-publish's content record: signed with the publisher's credential,
// put into the managed overlay once the torrent exists, and put again before
// it expires for as long as the publisher seeds.
#pragma once

#include "dht/content_client.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace imsp2p::swarm {

class ContentAnnouncer {
public:
    // Joins the overlay (ContentClient's failures).
    ContentAnnouncer(const dht::ContentClientOptions& options, dht::Credential publisher, dht::ContentInfo info,
                     std::chrono::seconds lifetime);
    ~ContentAnnouncer(); // stops refreshing

    // Signs and stores a fresh record: Failure(negative) when the overlay did
    // not store it (refused by the core nodes, or unanswered).
    dht::ContentRecord publish();
    // From now on, publishes again every half lifetime, on a thread of its
    // own, until destroyed; failures are logged and retried then.
    void keep_fresh();

private:
    dht::ContentClient client_;
    dht::ContentSigner signer_;
    dht::ContentInfo info_;
    std::chrono::seconds lifetime_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread refresher_;
};

} // namespace imsp2p::swarm
