// ims-register --sec-agree: the ipsec-3gpp offer built from the options, and
// how the agreement shows in the result.
#pragma once

#include "secagree/agreement.hpp"
#include "subscriber/subscriber.hpp"
#include "ue/register_options.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace imsp2p::ue {

// One Security-Client entry per (alg, ealg) pair, with fresh SPIs; the
// ports stay 0 unless --sec-ports gives them (set_offer_ports fills them
// once the SIP port is bound). Failure(usage) for every bad value.
std::vector<secagree::IpsecParams> security_offer(const RegisterOptions& options, const subscriber::Subscriber& self);

// Protected client port: our SIP port (the REGISTER leaves from it);
// protected server port: the one above.
void set_offer_ports(std::vector<secagree::IpsecParams>& offer, std::uint16_t sip_port);

// The agreement in the result: algorithms, SPIs, ports, key sizes; the ESP
// keys themselves only with show_keys.
nlohmann::json sec_agree_fields(const secagree::Agreement& agreement, bool show_keys);
std::string sec_agree_summary(const secagree::Agreement& agreement);

} // namespace imsp2p::ue
