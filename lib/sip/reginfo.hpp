// The registration information document of the reg event package
// (RFC 3680, application/reginfo+xml), read and written with libxml2.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsp2p::sip {

struct ReginfoContact {
    std::string id;
    std::string uri;
    std::string state;    // active | terminated
    std::string event;    // registered, created, refreshed, shortened, expired,
                          // deactivated, probation, unregistered, rejected
    unsigned expires = 0;
};

struct ReginfoRegistration {
    std::string aor;
    std::string id;
    std::string state;    // init | active | terminated
    std::vector<ReginfoContact> contacts;
};

struct Reginfo {
    unsigned version = 0;
    std::string state = "full"; // full | partial
    std::vector<ReginfoRegistration> registrations;
};

// Parses a reginfo document; nullopt with `error` set when it is not one.
// External entities and network access are never used.
std::optional<Reginfo> parse_reginfo(std::string_view xml, std::string& error);

std::string write_reginfo(const Reginfo& reginfo);

} // namespace imsp2p::sip
