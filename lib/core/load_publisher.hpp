// A core node's side of the load records: every interval it measures its
// load (the shedder's rate, the registrations it accepted, its CPU share),
// signs a record with its certificate and puts it under core_load_key, then
// reads every node's record back for the shedder's 302 alternatives. Runs on
// the node's SIP loop (tick); the overlay's answers arrive on OpenDHT's
// thread and only touch state shared through a mutex.
#pragma once

#include "core/load_record.hpp"
#include "core/location.hpp"
#include "core/shedder.hpp"

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace imsp2p::core {

class NodeOverlay;

class LoadPublisher {
public:
    using Steady = std::chrono::steady_clock;
    // Called on the loop after each publication: this node's record and the
    // number of nodes (this one included) whose records were last read.
    using Published = std::function<void(const CoreLoad& load, std::size_t nodes)>;

    LoadPublisher(NodeOverlay& overlay, Shedder& shedder, std::string sip_uri, std::chrono::seconds interval,
                  Published on_published);
    ~LoadPublisher();
    LoadPublisher(const LoadPublisher&) = delete;
    LoadPublisher& operator=(const LoadPublisher&) = delete;

    // Publishes when an interval has passed since the last time (the first at once).
    void tick(Steady::time_point now);
    void registered(const std::string& aor, const std::vector<Binding>& bindings);
    void unregistered(const std::string& aor);
    CoreLoad measure(Steady::time_point now);

private:
    void publish(Steady::time_point now);

    struct Shared;
    NodeOverlay& overlay_;
    Shedder& shedder_;
    std::string sip_;
    std::chrono::seconds interval_;
    Published on_published_;
    std::shared_ptr<Shared> shared_;
    Steady::time_point next_{};
    Steady::time_point cpu_at_{};
    double cpu_before_ = 0;
    double cpu_share_ = 0;
    std::map<std::string, Clock::time_point> registrations_; // AOR -> its latest binding's end
};

} // namespace imsp2p::core
