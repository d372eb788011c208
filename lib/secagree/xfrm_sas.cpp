#include "secagree/xfrm_sas.hpp"

#include "cli/outcome.hpp"
#include "util/subprocess.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <unistd.h>

namespace imsp2p::secagree {
namespace {

struct Sa {
    std::string src, dst;
    unsigned sport, dport;
    std::uint32_t spi;
    const char* dir;
};

// Outbound: the P-CSCF's SPIs; inbound: ours (TS 33.203 §7.1).
std::vector<Sa> layout(const SaEndpoints& w, const IpsecParams& ue, const IpsecParams& pcscf)
{
    return {
        {w.ue, w.pcscf, ue.port_c, pcscf.port_s, pcscf.spi_s, "out"},
        {w.ue, w.pcscf, ue.port_s, pcscf.port_c, pcscf.spi_c, "out"},
        {w.pcscf, w.ue, pcscf.port_c, ue.port_s, ue.spi_s, "in"},
        {w.pcscf, w.ue, pcscf.port_s, ue.port_c, ue.spi_c, "in"},
    };
}

std::string key_text(const Bytes& key)
{
    return key.empty() ? "\"\"" : "0x" + to_hex(key);
}

void run_ip(const std::string& script, bool force, std::string* error)
{
    std::vector<std::string> argv{"ip"};
    if (force)
        argv.push_back("-force");
    argv.insert(argv.end(), {"-batch", "-"});
    const auto result = run_with_input(argv, script);
    if (result.status != 0 && error) {
        std::string text = result.stderr_text;
        while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
            text.pop_back();
        for (auto& c : text)
            if (c == '\n')
                c = ';';
        *error = text.empty() ? fmt::format("ip exited with status {}", result.status) : text;
    }
}

} // namespace

std::string XfrmSas::install_script(const SaEndpoints& w, const IpsecParams& ue, const IpsecParams& pcscf, const EspKeys& keys)
{
    std::string script;
    for (const auto& sa : layout(w, ue, pcscf)) {
        script += fmt::format("xfrm state add src {} dst {} proto esp spi 0x{:08x} mode transport auth-trunc {} {} 96 "
                              "enc {} {} sel src {} dst {} proto {} sport {} dport {}\n",
                              sa.src, sa.dst, sa.spi, keys.xfrm_auth, key_text(keys.integrity), keys.xfrm_enc,
                              key_text(keys.encryption), sa.src, sa.dst, w.protocol, sa.sport, sa.dport);
        script += fmt::format("xfrm policy add src {} dst {} proto {} sport {} dport {} dir {} "
                              "tmpl src {} dst {} proto esp mode transport\n",
                              sa.src, sa.dst, w.protocol, sa.sport, sa.dport, sa.dir, sa.src, sa.dst);
    }
    return script;
}

std::string XfrmSas::remove_script(const SaEndpoints& w, const IpsecParams& ue, const IpsecParams& pcscf)
{
    std::string script;
    for (const auto& sa : layout(w, ue, pcscf)) {
        script += fmt::format("xfrm policy delete src {} dst {} proto {} sport {} dport {} dir {}\n", sa.src, sa.dst,
                              w.protocol, sa.sport, sa.dport, sa.dir);
        script += fmt::format("xfrm state delete src {} dst {} proto esp spi 0x{:08x}\n", sa.src, sa.dst, sa.spi);
    }
    return script;
}

XfrmSas::XfrmSas(const SaEndpoints& where, const IpsecParams& ue, const IpsecParams& pcscf, const EspKeys& keys)
    : remove_(remove_script(where, ue, pcscf))
{
    if (geteuid() != 0)
        throw Failure(Outcome::local, "sec-agree: installing IPsec SAs needs root (CAP_NET_ADMIN); "
                                      "--sec-sa none negotiates without them");
    std::string error;
    run_ip(install_script(where, ue, pcscf, keys), false, &error);
    if (!error.empty()) {
        run_ip(remove_, true, nullptr); // whatever the failed batch added before its error
        const bool no_esp = error.find("Requested type not found") != std::string::npos ||
                            error.find("Protocol not supported") != std::string::npos;
        throw Failure(Outcome::local,
                      fmt::format("sec-agree: cannot install the IPsec SAs: ip xfrm: {}{}", error,
                                  no_esp ? " (this kernel has no xfrm ESP support: CONFIG_XFRM_USER, CONFIG_INET_ESP;"
                                           " --sec-sa none negotiates without SAs)"
                                         : ""));
    }
    spdlog::info("sec-agree: 4 IPsec SAs installed between {} and {}", where.ue, where.pcscf);
}

XfrmSas::~XfrmSas()
{
    std::string error;
    run_ip(remove_, true, &error);
    if (!error.empty())
        spdlog::warn("sec-agree: removing the IPsec SAs: {}", error);
}

} // namespace imsp2p::secagree
