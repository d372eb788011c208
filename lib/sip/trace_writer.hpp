// The process-wide SIP trace: where --trace sends the messages of every SIP
// stack in the process (a pcap file, or a readable log on stderr with "-"),
// and the messages kept for --expect. Stacks feed it through a TraceTap.
#pragma once

#include "sip/trace_message.hpp"

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace imsp2p::sip {

class PcapWriter;

class TraceWriter {
public:
    static TraceWriter& instance();

    // --trace: "" none, "-" a log on stderr, else a pcap file, created when
    // the first stack starts (open()).
    void set_output(const std::string& path);
    void keep_messages(); // for --expect: messages() returns everything traced
    bool active() const;  // a stack should tap its transport

    void open();          // creates the output if not yet done; Failure(local) when it cannot
    void record(const TracedMessage& message);
    std::vector<TracedMessage> messages() const;

private:
    TraceWriter() = default;
    ~TraceWriter();

    mutable std::mutex mutex_;
    std::string path_;
    bool keep_ = false;
    std::unique_ptr<PcapWriter> pcap_;
    std::vector<TracedMessage> kept_;
};

// The readable form of one message for `--trace -`: a line with time,
// direction, transport and both ends, then the message.
std::string format_trace_entry(const TracedMessage& message);

} // namespace imsp2p::sip
