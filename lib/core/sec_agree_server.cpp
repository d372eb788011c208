#include "core/sec_agree_server.hpp"

#include "secagree/ipsec_params.hpp"
#include "sip/sofia.hpp"
#include "util/hmac.hpp"
#include "util/random.hpp"

#include <sofia-sip/sip_util.h>

namespace imsp2p::core {
namespace {

std::uint32_t spi_from(const std::string& mac, std::size_t at)
{
    std::uint32_t spi = 0;
    for (std::size_t i = at; i < at + 4; ++i)
        spi = spi << 8 | static_cast<unsigned char>(mac[i]);
    return spi | 0x10000; // above the reserved 0-255
}

} // namespace

SecAgreeServer::SecAgreeServer(SecAgreeConfig config) : config_(config), key_(random_bytes(32)) {}

std::optional<std::string> SecAgreeServer::offer(const sip_s* sip) const
{
    if (!sip->sip_security_client || !sip->sip_call_id)
        return std::nullopt;
    const auto client = secagree::read_ipsec(sip->sip_security_client);
    for (const auto& entry : client) {
        if (!secagree::known_alg(entry.alg) || !secagree::known_ealg(entry.ealg))
            continue;
        const std::string mac = hmac_sha256(key_, std::string(sip->sip_call_id->i_id) + '\n' + secagree::header_value(client));
        secagree::IpsecParams ours{entry.alg, entry.ealg, spi_from(mac, 0), spi_from(mac, 4), config_.port_c,
                                   config_.port_s, "0.1"};
        if (ours.spi_c == ours.spi_s)
            ours.spi_s ^= 1;
        return secagree::entry_text(ours);
    }
    return std::nullopt;
}

SecAgreeServer::Check SecAgreeServer::check(const sip_s* sip) const
{
    if (secagree::read_ipsec(sip->sip_security_client).empty())
        return Check::not_asked;
    if (!sip->sip_security_verify)
        return Check::missing;
    const auto expected = offer(sip);
    if (!expected)
        return Check::mismatch;
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_security_server_t* server = sip_security_server_make(home, expected->c_str());
    char const* digest_version = nullptr;
    const bool same = server && sip_security_verify_compare(server, sip->sip_security_verify, &digest_version) == 0;
    su_home_deinit(home);
    return same ? Check::ok : Check::mismatch;
}

const char* check_name(SecAgreeServer::Check check)
{
    switch (check) {
    case SecAgreeServer::Check::not_asked:
        return "not_asked";
    case SecAgreeServer::Check::ok:
        return "ok";
    case SecAgreeServer::Check::missing:
        return "sec_agree_no_verify";
    case SecAgreeServer::Check::mismatch:
        return "sec_agree_mismatch";
    }
    return "?";
}

} // namespace imsp2p::core
