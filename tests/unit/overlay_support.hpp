// Helpers for the overlay tests: a CA with node credentials, overlays of
// OverlayNodes on 127.0.50.x that are ready once probe values round-trip,
// bounded waits for overlay answers, and a loop that runs posted work on the
// test's thread.
#pragma once

#include "dht/overlay_key.hpp"
#include "dht/overlay_node.hpp"
#include "dht/signed_record.hpp"
#include "test_support.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::test {

// An overlay key (each TestPki its own, as each CA has), its verifier, and
// record writers for named nodes.
struct TestPki {
    TestPki();
    dht::OverlayKey key;
    std::shared_ptr<const dht::Verifier> verifier;
    dht::RecordSigner signer(const std::string& node) const;
};

// Nodes on 127.0.50.<first_host + i>, each bootstrapping from every node
// before it and they from it. `verifier` is each node's store policy (null: none); `signer`
// signs the probe values when there is one.
class TestOverlay {
public:
    TestOverlay(std::size_t count, int first_host, std::uint32_t network, std::shared_ptr<const dht::Verifier> verifier,
                std::optional<dht::RecordSigner> signer = std::nullopt);
    dht::OverlayNode& node(std::size_t i) { return *nodes_.at(i); }
    std::size_t size() const { return nodes_.size(); }
    // Another node, e.g. with its own config (state dir, other verifier); it
    // bootstraps from every node so far, and they from it.
    dht::OverlayNode& add(dht::OverlayConfig config);
    dht::OverlayConfig config(int host) const;
    std::vector<std::string> bootstrap_list() const;
    // Every node puts a probe that the next one must find (bounded retries).
    bool wait_ready(std::chrono::seconds budget = std::chrono::seconds(15));

private:
    std::uint32_t network_;
    std::shared_ptr<const dht::Verifier> verifier_;
    std::optional<dht::RecordSigner> signer_;
    std::vector<std::unique_ptr<dht::OverlayNode>> nodes_;
};

// Bounded waits for one overlay operation (nullopt/false on timeout).
std::optional<bool> put_and_wait(dht::OverlayNode& node, const std::string& key, Bytes data, std::uint64_t id,
                                 std::chrono::seconds lifetime = std::chrono::seconds(300),
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));
std::optional<std::vector<dht::RawValue>> get_and_wait(dht::OverlayNode& node, const std::string& key,
                                                       std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

// A loop for work posted from OpenDHT's threads, run on the test's thread.
class TestLoop {
public:
    void post(std::function<void()> work);
    // Runs posted work until `done()` holds or the timeout; returns done().
    bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = std::chrono::milliseconds(10000));

private:
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> queue_;
};

} // namespace imsp2p::test
