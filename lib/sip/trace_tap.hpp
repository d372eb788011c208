// Taps sofia-sip's transport layer for the process's TraceWriter.
//
// sofia-sip calls tport_dump_iovec() with every message it sends or receives
// while a transport dump file is set (TPTAG_DUMP). Its own version writes a
// header line and only the first I/O vector of the message, so a request
// whose body sits in a second vector (an INVITE's SDP) loses the body. This
// library defines tport_dump_iovec itself, which the dynamic linker binds
// ahead of sofia's for sofia's calls: the message, all of it, reaches the
// TraceWriter synchronously, on the stack's own thread, while its TCP
// connection is still open (so its local port can be read). The dump file
// itself is /dev/null.
#pragma once

#include <string>

namespace imsp2p::sip {

class TraceTap {
public:
    TraceTap(); // opens the trace output: Failure(local) when it cannot be written
    // For TPTAG_DUMP: sofia calls the dump hook only while it has a dump file.
    const char* dump_path() const { return "/dev/null"; }
};

// The local end of this process's TCP connection to ip:port, if one is open.
bool tcp_local_end(const std::string& ip, unsigned port, std::string& local_ip, unsigned& local_port);

} // namespace imsp2p::sip
