// The UE's four IPsec SAs of TS 33.203 §7.1 (transport mode ESP between its
// protected ports and the P-CSCF's), with their policies, installed in the
// kernel's xfrm through iproute2 and removed again on destruction. Keys go
// to `ip -batch -` on its stdin, never on a command line.
#pragma once

#include "secagree/esp_keys.hpp"
#include "secagree/ipsec_params.hpp"

#include <string>
#include <vector>

namespace imsp2p::secagree {

struct SaEndpoints {
    std::string ue;        // the UE's IP address
    std::string pcscf;     // the P-CSCF's IP address
    std::string protocol;  // udp or tcp: what the selectors match
};

class XfrmSas {
public:
    // Failure(local) when not root, or naming the kernel's answer (a kernel
    // without ESP says "Requested type not found"); nothing is left behind.
    XfrmSas(const SaEndpoints& where, const IpsecParams& ue, const IpsecParams& pcscf, const EspKeys& keys);
    ~XfrmSas();
    XfrmSas(const XfrmSas&) = delete;
    XfrmSas& operator=(const XfrmSas&) = delete;

    // The `ip xfrm` lines, keys included: for the tests of the layout.
    static std::string install_script(const SaEndpoints& where, const IpsecParams& ue, const IpsecParams& pcscf,
                                      const EspKeys& keys);
    static std::string remove_script(const SaEndpoints& where, const IpsecParams& ue, const IpsecParams& pcscf);

private:
    std::string remove_;
};

} // namespace imsp2p::secagree
