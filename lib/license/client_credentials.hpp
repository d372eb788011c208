// The IMS credentials a licence client (license-fetch, swarm-publish's key
// deposit) authenticates with: a row of the subscriber CSV, or flags; the
// identity may come from an ims-register --json result instead of --impi.
#pragma once

#include "aka/aka.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace imsp2p::license {

struct CredentialOptions {
    std::string impi;
    std::string registration; // ims-register --json output (FILE or "-"): the IMPI, when --impi is not given
    std::string password;     // md5
    std::string k, op, opc;   // aka, hex
    std::string subscribers;  // CSV; with impi
    std::string usim_state;   // aka: SEQ_MS between runs (default: ims-register's per-IMPI file)
};

struct ClientCredentials {
    std::string impi;
    std::string password;                 // md5 subscribers (a secret)
    std::shared_ptr<aka::Usim> usim;      // aka subscribers
    std::optional<std::filesystem::path> usim_state;
};

// Failure(usage) naming what is missing or malformed.
ClientCredentials resolve_credentials(const CredentialOptions& options);

} // namespace imsp2p::license
