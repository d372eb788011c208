// Finding a core node without a fixed proxy (ims-register, ims-call): a
// short-lived DHT client joins the managed overlay through --core-overlay,
// reads the nodes' load records (core/load_record.hpp), keeps those that
// chain to --core-ca, and picks a node at random with weights favouring low
// load, so that many clients reading the same records spread rather than
// all choosing the one least loaded node (herding).
#pragma once

#include "core/load_record.hpp"
#include "sip/registration.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace CLI {
class App;
}

namespace imsp2p::dht {
class ContentClient;
}

namespace imsp2p::ue {

struct CoreDiscoveryOptions {
    std::string overlay;            // --core-overlay HOST:PORT; empty: discovery off
    std::string ca;                 // --core-ca FILE
    std::uint32_t network_id = 0;   // --core-network-id; 0: p2p-node's default
    unsigned attempts = 3;          // --core-attempts: nodes that fail (503, no answer) per request, and 3xx followed
    bool enabled() const { return !overlay.empty(); }
};

// The --core-* options on `app`, under the group "Core discovery".
void add_core_discovery_options(CLI::App& app, CoreDiscoveryOptions& options);
// Failure(usage) before any I/O: malformed --core-overlay, --core-ca
// missing, --core-* without --core-overlay, --core-overlay with --proxy.
void check_core_discovery_options(const CoreDiscoveryOptions& options, const std::string& proxy);

// How strongly a node is favoured: high when idle, low near its capacity,
// lowest when it sheds (never zero: with every node loaded, still a choice).
double pick_weight(const core::CoreLoad& load);
// An index into loads drawn with pick_weight (loads not empty); `unit` in [0, 1).
std::size_t pick_weighted(const std::vector<core::CoreLoad>& loads, double unit);

class CoreDirectory {
public:
    // Joins and reads the records once. Failure(no_answer) when no overlay
    // node answers; Failure(negative) when there is no valid load record.
    // `bind`: local IPv4 address for the DHT client ("0.0.0.0": any).
    CoreDirectory(const CoreDiscoveryOptions& options, const std::string& bind, std::chrono::milliseconds timeout);
    ~CoreDirectory();
    CoreDirectory(const CoreDirectory&) = delete;
    CoreDirectory& operator=(const CoreDirectory&) = delete;

    std::vector<core::CoreLoad> nodes() const;
    std::size_t refused() const; // load records that failed a check at the last read
    // A node's SIP URI, drawn by weight among those not in `avoid`, those
    // marked failed only when no other is left; nullopt when none is left.
    std::optional<std::string> pick(const std::vector<std::string>& avoid = {});
    // A node did not answer: avoided for a while (its record lingers until it expires).
    void mark_failed(const std::string& sip);
    bool failed_lately(const std::string& sip) const;
    // Reads the records again every `period` on a thread of its own (load runs).
    void keep_current(std::chrono::seconds period);
    const CoreDiscoveryOptions& options() const { return options_; }

private:
    void read(); // Failure(no_answer) when the lookup fails

    CoreDiscoveryOptions options_;
    std::unique_ptr<dht::ContentClient> client_;
    mutable std::mutex mutex_;
    std::vector<core::CoreLoad> nodes_;
    std::size_t refused_ = 0;
    std::map<std::string, std::chrono::steady_clock::time_point> failed_; // SIP URI -> avoided until
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread refresher_;
};

// Setup for a UE tool (no I/O): the options checked, and the proxy to plan
// with until a node is picked (the --core-overlay host, on which the local
// address is chosen). Empty when discovery is off.
std::string core_planning_proxy(const CoreDiscoveryOptions& options, const std::string& proxy);
// Joins and reads the records (null when discovery is off); the DHT client
// binds the IPv4 address of `local` (ADDR or ADDR:PORT) when there is one.
std::unique_ptr<CoreDirectory> open_core_directory(const CoreDiscoveryOptions& options, const std::string& local,
                                                   double timeout_s);

// Runs `action` of `registration` through the directory's nodes: a picked
// node as next hop, a 3xx followed to one of its Contacts, a 503 or no answer
// retried on another node; at most options().attempts failing nodes and as
// many redirects. `done` gets the
// last result and the nodes tried. The registration's next hop stays on the
// node that answered last (refreshes go there).
void register_through_core(CoreDirectory& directory, sip::Registration& registration, sip::RegisterAction action,
                           std::function<void(const sip::RegistrationResult& result, unsigned tried)> done);

} // namespace imsp2p::ue
