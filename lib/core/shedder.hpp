// Adaptive shedding at a core node's front door (RequestRouter): with a
// --max-rate cap, the node serves new initial requests only while the rate
// of new ones it served in the last second stays under --overload-threshold
// of the cap. A REGISTER answering this node's challenge continues a
// registration counted when it began, so it is neither counted nor shed. Past it, a new
// REGISTER is redirected (302) to the less-loaded nodes the load records
// name, any other new initial request gets 503 with Retry-After. What is
// never shed: requests inside a dialog, ACK and CANCEL, OPTIONS for the node,
// and requests carrying credentials (the second half of a registration
// already challenged here), so work once started is finished where it began.
#pragma once

#include "core/load_meter.hpp"
#include "core/load_record.hpp"

#include <mutex>
#include <string>
#include <vector>

struct nta_incoming_s;
struct sip_s;

namespace imsp2p::core {

struct ShedOptions {
    double max_rate = 0;          // new initial requests/s this node serves at most; 0: no cap (never sheds)
    double threshold = 0.8;       // fraction of max_rate past which new initial requests are shed
    unsigned retry_after = 5;     // seconds, in 503s
    unsigned max_alternatives = 3; // Contacts in a 302
};

// Failure(usage) naming the option when out of range.
void check_shed_options(const ShedOptions& options);

class Shedder {
public:
    using Clock = LoadMeter::Clock;

    Shedder(ShedOptions options, std::string self_node);

    enum class Decision { serve, redirect, reject };
    struct Verdict {
        Decision decision = Decision::serve;
        std::vector<std::string> alternatives; // redirect: SIP URIs, least loaded first
    };
    // `fresh`: a new initial request (not in a dialog, no credentials); only
    // those are counted (when served) and shed.
    Verdict admit(bool is_register, bool fresh, Clock::time_point now);
    // Answers irq (302 or 503) and returns true when the request is shed.
    bool handle(nta_incoming_s*& irq, const sip_s* sip);

    // The load records read from the overlay (any thread).
    void set_peers(std::vector<CoreLoad> loads);
    std::vector<CoreLoad> peers() const;

    double rate(Clock::time_point now) { return served_.rate(now); }
    bool overloaded(Clock::time_point now);
    // The most initial requests served in any window so far (the cap check of tests and benchmarks).
    std::uint64_t peak() const { return peak_; }
    std::uint64_t redirected() const { return redirected_; }
    std::uint64_t rejected() const { return rejected_; }
    const ShedOptions& options() const { return options_; }

private:
    ShedOptions options_;
    std::string self_;
    LoadMeter served_;
    LoadMeter shed_;
    std::uint64_t peak_ = 0, redirected_ = 0, rejected_ = 0;
    mutable std::mutex mutex_; // guards peers_
    std::vector<CoreLoad> peers_;
};

} // namespace imsp2p::core
