#include "secagree/ipsec_params.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia.hpp"
#include "util/random.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace imsp2p::secagree {
namespace {

std::optional<unsigned long> number(msg_param_t const* params, const char* name, unsigned long max)
{
    const char* value = msg_params_find(params, name);
    if (!value || !*value)
        return std::nullopt;
    char* end = nullptr;
    const unsigned long n = std::strtoul(value, &end, 10);
    if (*end || n > max || value[0] == '-')
        return std::nullopt;
    return n;
}

std::string text(msg_param_t const* params, const char* name)
{
    const char* value = msg_params_find(params, name);
    return value ? value : "";
}

} // namespace

bool known_alg(const std::string& alg)
{
    return alg == "hmac-sha-1-96" || alg == "hmac-md5-96";
}

bool known_ealg(const std::string& ealg)
{
    return ealg == "null" || ealg == "aes-cbc";
}

std::string entry_text(const IpsecParams& p)
{
    return fmt::format("ipsec-3gpp{};alg={};ealg={};spi-c={};spi-s={};port-c={};port-s={}",
                       p.q.empty() ? "" : ";q=" + p.q, p.alg, p.ealg, p.spi_c, p.spi_s, p.port_c, p.port_s);
}

std::string header_value(const std::vector<IpsecParams>& list)
{
    std::string out;
    for (const auto& entry : list)
        out += (out.empty() ? "" : ", ") + entry_text(entry);
    return out;
}

std::vector<IpsecParams> read_ipsec(const sip_security_agree_s* list, std::vector<std::string>* rejected)
{
    std::vector<IpsecParams> out;
    auto reject = [&](const std::string& why) {
        if (rejected)
            rejected->push_back(why);
    };
    for (const sip_security_agree_s* sa = list; sa; sa = sa->sa_next) {
        if (!sa->sa_mec || strcasecmp(sa->sa_mec, "ipsec-3gpp") != 0)
            continue;
        IpsecParams p;
        p.alg = text(sa->sa_params, "alg=");
        p.ealg = text(sa->sa_params, "ealg=");
        if (p.ealg.empty())
            p.ealg = "null"; // TS 33.203 §7.2: absent means no encryption
        p.q = sa->sa_q ? sa->sa_q : "";
        const auto spi_c = number(sa->sa_params, "spi-c=", 0xffffffffUL), spi_s = number(sa->sa_params, "spi-s=", 0xffffffffUL);
        const auto port_c = number(sa->sa_params, "port-c=", 65535), port_s = number(sa->sa_params, "port-s=", 65535);
        if (p.alg.empty()) {
            reject("ipsec-3gpp entry without alg");
            continue;
        }
        if (!spi_c || !spi_s || !port_c || !port_s) {
            reject(fmt::format("ipsec-3gpp entry (alg={}) with a missing or invalid spi-c, spi-s, port-c or port-s", p.alg));
            continue;
        }
        p.spi_c = static_cast<std::uint32_t>(*spi_c);
        p.spi_s = static_cast<std::uint32_t>(*spi_s);
        p.port_c = static_cast<std::uint16_t>(*port_c);
        p.port_s = static_cast<std::uint16_t>(*port_s);
        out.push_back(std::move(p));
    }
    return out;
}

std::optional<IpsecParams> select_server(const std::vector<IpsecParams>& server, const std::vector<IpsecParams>& offered)
{
    std::optional<IpsecParams> best;
    double best_q = -1;
    for (const auto& entry : server) {
        const bool ours = std::any_of(offered.begin(), offered.end(), [&](const IpsecParams& o) {
            return o.alg == entry.alg && o.ealg == entry.ealg;
        });
        if (!ours)
            continue;
        const double q = entry.q.empty() ? 0.0 : std::strtod(entry.q.c_str(), nullptr);
        if (q > best_q) {
            best_q = q;
            best = entry;
        }
    }
    return best;
}

std::pair<std::uint16_t, std::uint16_t> parse_port_pair(const std::string& text, const char* option)
{
    auto port = [&](const std::string& part) {
        unsigned value = 0;
        const auto [end, error] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (part.empty() || error != std::errc() || end != part.data() + part.size() || value == 0 || value > 65535)
            throw Failure(Outcome::usage, fmt::format("{}: '{}' is not a port number (1-65535)", option, part));
        return static_cast<std::uint16_t>(value);
    };
    const auto colon = text.find(':');
    if (colon == std::string::npos)
        throw Failure(Outcome::usage, fmt::format("{} '{}' is not PORT_C:PORT_S", option, text));
    const auto pair = std::make_pair(port(text.substr(0, colon)), port(text.substr(colon + 1)));
    if (pair.first == pair.second)
        throw Failure(Outcome::usage, fmt::format("{}: the protected client and server ports must differ", option));
    return pair;
}

std::uint32_t random_spi()
{
    for (;;) {
        const std::string bytes = random_bytes(4);
        std::uint32_t spi = 0;
        for (unsigned char c : bytes)
            spi = spi << 8 | c;
        if (spi > 255)
            return spi;
    }
}

} // namespace imsp2p::secagree
