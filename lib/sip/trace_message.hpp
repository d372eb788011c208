// One SIP message as it crossed the wire, captured for --trace and --expect.
#pragma once

#include <cstdint>
#include <string>

namespace imsp2p::sip {

struct TracedMessage {
    bool sent = false;          // false: received
    std::string transport;      // udp, tcp, tls, ... as sofia-sip names it
    std::string local_ip;       // numeric, IPv4 or IPv6
    unsigned local_port = 0;
    std::string remote_ip;
    unsigned remote_port = 0;
    std::int64_t time_us = 0;   // Unix time in microseconds
    std::string data;           // the bytes as sent or received (a TCP read may hold part of a message)
};

} // namespace imsp2p::sip
