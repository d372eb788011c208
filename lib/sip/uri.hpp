// SIP URIs given on the command line or in files, checked with sofia-sip's parser.
#pragma once

#include <string>

namespace imsp2p::sip {

struct SipUri {
    std::string text;   // as given, trimmed of <>
    std::string scheme; // sip or sips
    std::string user;
    std::string host;   // without brackets for IPv6
    unsigned port = 0;  // 0: not given
    std::string transport; // transport= parameter, lower case, empty when absent
};

// Parses a sip:/sips: URI; throws Failure(usage) naming `what` (e.g. "--impu")
// and the reason when it is malformed. `need_user` demands a user part.
SipUri parse_sip_uri(const std::string& text, const std::string& what, bool need_user = false);

// An address-of-record in canonical form: scheme, user and host, no port or
// parameters, host lower-cased (e.g. sip:alice@ims.test).
std::string canonical_aor(const SipUri& uri);

} // namespace imsp2p::sip
