#include "ue/sec_agree_options.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <tuple>

namespace imsp2p::ue {
namespace {

nlohmann::json side(const secagree::IpsecParams& p)
{
    return {{"spi_c", p.spi_c}, {"spi_s", p.spi_s}, {"port_c", p.port_c}, {"port_s", p.port_s}};
}

} // namespace

std::vector<secagree::IpsecParams> security_offer(const RegisterOptions& options, const subscriber::Subscriber& self)
{
    if (options.load)
        throw Failure(Outcome::usage, "--sec-agree is for one UE's registration, not for load mode");
    if (self.auth != subscriber::AuthScheme::aka)
        throw Failure(Outcome::usage, fmt::format("--sec-agree needs IMS AKA credentials (K and OP or OPc) for {}: the "
                                                  "ESP keys come from AKA's IK and CK",
                                                  self.impi));
    if (options.sec_sa != "xfrm" && options.sec_sa != "none")
        throw Failure(Outcome::usage, fmt::format("--sec-sa '{}' is not xfrm or none", options.sec_sa));
    for (const auto& alg : options.sec_algs)
        if (!secagree::known_alg(alg))
            throw Failure(Outcome::usage,
                          fmt::format("--sec-alg '{}' is not supported (hmac-sha-1-96, hmac-md5-96)", alg));
    for (const auto& ealg : options.sec_ealgs)
        if (!secagree::known_ealg(ealg))
            throw Failure(Outcome::usage, fmt::format("--sec-ealg '{}' is not supported (aes-cbc, null)", ealg));
    if (options.sec_algs.empty() || options.sec_ealgs.empty())
        throw Failure(Outcome::usage, "--sec-alg and --sec-ealg need at least one algorithm each");
    std::uint16_t port_c = 0, port_s = 0;
    if (!options.sec_ports.empty())
        std::tie(port_c, port_s) = secagree::parse_port_pair(options.sec_ports, "--sec-ports");
    const std::uint32_t spi_c = secagree::random_spi();
    std::uint32_t spi_s = secagree::random_spi();
    while (spi_s == spi_c)
        spi_s = secagree::random_spi();
    std::vector<secagree::IpsecParams> offer;
    for (const auto& alg : options.sec_algs)
        for (const auto& ealg : options.sec_ealgs)
            offer.push_back({alg, ealg, spi_c, spi_s, port_c, port_s, ""});
    return offer;
}

void set_offer_ports(std::vector<secagree::IpsecParams>& offer, std::uint16_t sip_port)
{
    for (auto& entry : offer)
        if (entry.port_c == 0) {
            entry.port_c = sip_port;
            entry.port_s = static_cast<std::uint16_t>(sip_port == 65535 ? sip_port - 1 : sip_port + 1);
        }
}

nlohmann::json sec_agree_fields(const secagree::Agreement& a, bool show_keys)
{
    nlohmann::json fields = {
        {"mechanism", "ipsec-3gpp"},
        {"alg", a.pcscf.alg},
        {"ealg", a.pcscf.ealg},
        {"ue", side(a.ue)},
        {"pcscf", side(a.pcscf)},
        {"pcscf_address", a.pcscf_address},
        {"sa", a.sa},
        {"ik_esp_bits", a.keys.integrity.size() * 8},
        {"ck_esp_bits", a.keys.encryption.size() * 8},
    };
    if (show_keys) { // secrets: only on request (--show-keys)
        fields["ik_esp"] = to_hex(a.keys.integrity);
        fields["ck_esp"] = to_hex(a.keys.encryption);
    }
    return fields;
}

std::string sec_agree_summary(const secagree::Agreement& a)
{
    return fmt::format("ipsec-3gpp {}/{} with {} (spi {}/{} ports {}/{}), SAs {}", a.pcscf.alg, a.pcscf.ealg,
                       a.pcscf_address, a.pcscf.spi_c, a.pcscf.spi_s, a.pcscf.port_c, a.pcscf.port_s, a.sa);
}

} // namespace imsp2p::ue
