#include "sip/trace_writer.hpp"

#include "sip/pcap_writer.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cstdio>
#include <ctime>

namespace imsp2p::sip {
namespace {

std::string endpoint(const std::string& ip, unsigned port)
{
    return ip.find(':') != std::string::npos ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
}

} // namespace

TraceWriter& TraceWriter::instance()
{
    static TraceWriter writer;
    return writer;
}

TraceWriter::~TraceWriter() = default;

void TraceWriter::set_output(const std::string& path)
{
    std::lock_guard lock(mutex_);
    path_ = path;
}

void TraceWriter::keep_messages()
{
    std::lock_guard lock(mutex_);
    keep_ = true;
}

bool TraceWriter::active() const
{
    std::lock_guard lock(mutex_);
    return keep_ || !path_.empty();
}

void TraceWriter::open()
{
    std::lock_guard lock(mutex_);
    if (!pcap_ && !path_.empty() && path_ != "-")
        pcap_ = std::make_unique<PcapWriter>(path_);
}

void TraceWriter::record(const TracedMessage& message)
{
    std::lock_guard lock(mutex_);
    if (pcap_)
        pcap_->write(message);
    else if (path_ == "-") {
        const auto entry = format_trace_entry(message);
        std::fwrite(entry.data(), 1, entry.size(), stderr);
        std::fflush(stderr);
    }
    if (keep_)
        kept_.push_back(message);
}

std::vector<TracedMessage> TraceWriter::messages() const
{
    std::lock_guard lock(mutex_);
    return kept_;
}

std::string format_trace_entry(const TracedMessage& m)
{
    const std::time_t seconds = static_cast<std::time_t>(m.time_us / 1000000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    std::string text = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06}Z {} {} {} {} {} ({} bytes)\n", utc, m.time_us % 1000000,
                                   m.sent ? "sent" : "recv",
                                   m.transport, endpoint(m.local_ip, m.local_port), m.sent ? "->" : "<-",
                                   endpoint(m.remote_ip, m.remote_port), m.data.size());
    // The message with its CRLFs as plain line ends, and a blank line after it.
    for (std::size_t at = 0; at < m.data.size();) {
        auto end = m.data.find('\n', at);
        if (end == std::string::npos)
            end = m.data.size();
        std::string_view line(m.data.data() + at, end - at);
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        text += fmt::format("  {}\n", line);
        at = end + 1;
    }
    return text + "\n";
}

} // namespace imsp2p::sip
