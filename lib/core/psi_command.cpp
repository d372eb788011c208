#include "core/psi_command.hpp"

#include "core/location.hpp"
#include "core/node_command.hpp"
#include "hss/subscriber_store.hpp"
#include "sip/uri.hpp"

#include <fmt/format.h>

namespace imsp2p::core {

Outcome run_psi(const PsiOptions& options, cli::Output& out, double timeout_s)
{
    if (options.state_dir.empty())
        throw Failure(Outcome::usage, "--state-dir is required: the state directory of the running node");
    sip::parse_sip_uri(options.psi, "PSI", true);
    sip::parse_sip_uri(options.target, "TARGET", true);
    const auto answer = control_request(control_socket_path(options.state_dir),
                                        {{"command", "psi"},
                                         {"psi", options.psi},
                                         {"target", options.target},
                                         {"expires", options.expires}},
                                        timeout_s);
    if (!answer.value("ok", false))
        throw Failure(Outcome::negative, fmt::format("the node refused: {}", answer.value("error", "no reason given")));
    const auto psi = answer.value("psi", options.psi);
    out.event("psi_published", {{"psi", psi}, {"target", options.target}, {"expires", options.expires}},
              options.expires ? fmt::format("{} now routes to {} for {} s", psi, options.target, options.expires)
                              : fmt::format("{} withdrawn", psi));
    return Outcome::ok;
}

void serve_psi(const nlohmann::json& request, ControlSocket::Reply reply, LocationService& location,
               hss::SubscriberStore& store, cli::Output& out)
{
    std::string aor, target;
    unsigned expires = 0;
    try {
        aor = sip::canonical_aor(sip::parse_sip_uri(request.value("psi", ""), "psi", true));
        target = request.value("target", "");
        sip::parse_sip_uri(target, "target", true);
        expires = request.value("expires", 0u);
    } catch (const std::exception& error) {
        reply({{"ok", false}, {"error", error.what()}});
        return;
    }
    if (store.find_by_impu(aor)) {
        reply({{"ok", false}, {"error", fmt::format("{} is a subscriber's identity: it registers, it is not published", aor)}});
        return;
    }
    auto done = [reply, aor, target, expires, &out](LocationResult result) {
        if (!result.ok) {
            reply({{"ok", false}, {"error", result.error}});
            return;
        }
        out.event("psi_published", {{"psi", aor}, {"target", target}, {"expires", expires}},
                  expires ? fmt::format("public service identity {} routes to {} for {} s", aor, target, expires)
                          : fmt::format("public service identity {} withdrawn", aor));
        reply({{"ok", true}, {"psi", aor}});
    };
    if (expires == 0) {
        location.unbind(aor, target, "", done);
        return;
    }
    Binding binding;
    binding.contact = target;
    binding.expires = Clock::now() + std::chrono::seconds(expires);
    binding.call_id = "psi:" + aor;
    binding.cseq = 1;
    binding.received = "control:local";
    location.bind(aor, std::move(binding), done);
}

} // namespace imsp2p::core
