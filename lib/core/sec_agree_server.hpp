// The P-CSCF side of sec-agree (RFC 3329, TS 33.203 §7.2), header exchange
// only: p2p-node installs no SAs. The Security-Server of a 401 is derived
// from the REGISTER's Call-ID and Security-Client with a per-process key,
// so the REGISTER answering the challenge is checked without stored state:
// its Security-Verify must repeat exactly what that 401 carried.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

struct sip_s;

namespace imsp2p::core {

struct SecAgreeConfig {
    std::uint16_t port_c = 5062; // our protected client port
    std::uint16_t port_s = 5063; // our protected server port
};

class SecAgreeServer {
public:
    explicit SecAgreeServer(SecAgreeConfig config);

    // The Security-Server value for a 401 to this REGISTER: the first
    // ipsec-3gpp entry of its Security-Client whose algorithms we know;
    // nullopt when it asks for none we know (or for no sec-agree at all).
    std::optional<std::string> offer(const sip_s* sip) const;

    enum class Check {
        not_asked, // no ipsec-3gpp Security-Client: no sec-agree
        ok,
        missing,   // Security-Client without Security-Verify
        mismatch,  // Security-Verify differs from our Security-Server
    };
    // For a REGISTER whose credentials were accepted.
    Check check(const sip_s* sip) const;

private:
    SecAgreeConfig config_;
    std::string key_;
};

const char* check_name(SecAgreeServer::Check check);

} // namespace imsp2p::core
