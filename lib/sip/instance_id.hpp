#pragma once

#include <string>

namespace imsp2p::sip {

// A stable +sip.instance for a private identity: urn:uuid: with a name-based
// (SHA-1, version 5 layout) UUID, so every run of a UE tool for the same
// identity presents the same device and finds its own binding again.
std::string instance_id_for(const std::string& impi);

} // namespace imsp2p::sip
