// Public service identities (TS 23.228 §4.3.6; e.g. sip:drm@ims.test, the
// licence server): `p2p-node psi` asks a running node to publish one in the
// location service, pointing at the server that hosts it, so that any core
// node routes requests for it. The node writes it as a binding of the PSI
// (an overlay record signed by the node, like a registration).
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "core/control_socket.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace imsp2p::hss {
class SubscriberStore;
}

namespace imsp2p::core {

class LocationService;

struct PsiOptions {
    std::string state_dir;
    std::string psi;           // e.g. sip:drm@ims.test
    std::string target;        // the SIP URI of the server hosting it
    unsigned expires = 86400;  // seconds; 0 withdraws it
};

// The client: sends the request to the node's control socket and prints the answer.
Outcome run_psi(const PsiOptions& options, cli::Output& out, double timeout_s);

// The node's side of the "psi" control command. A subscriber's IMPU is refused
// (those are registered, not published).
void serve_psi(const nlohmann::json& request, ControlSocket::Reply reply, LocationService& location,
               hss::SubscriberStore& store, cli::Output& out);

} // namespace imsp2p::core
