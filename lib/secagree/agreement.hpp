// What a UE's sec-agree run settled on: the entries of both sides with the
// chosen algorithms, and the ESP keys derived for them.
#pragma once

#include "secagree/esp_keys.hpp"
#include "secagree/ipsec_params.hpp"

#include <string>

namespace imsp2p::secagree {

struct Agreement {
    IpsecParams ue;            // our Security-Client entry with the chosen algorithms
    IpsecParams pcscf;         // the Security-Server entry chosen
    EspKeys keys;              // secrets: shown only on request
    std::string pcscf_address; // numeric IP the 401 came from
    std::string sa = "none";   // what became of the SAs: installed, none (not asked for)
};

} // namespace imsp2p::secagree
