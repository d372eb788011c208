#include "sip/trace_option.hpp"

#include "sip/trace_writer.hpp"

namespace imsp2p::sip {

CLI::Option* add_trace_option(CLI::App& app)
{
    return app
        .add_option_function<std::string>(
            "--trace", [](const std::string& path) { TraceWriter::instance().set_output(path); },
            "Write every SIP message sent or received to FILE as a pcap (read it with tshark -r FILE); "
            "- prints them on stderr instead")
        ->type_name("FILE|-")
        ->check([](const std::string& path) { return path.empty() ? std::string("--trace: give a file name or -") : std::string(); });
}

} // namespace imsp2p::sip
