#include "cli/tls_options.hpp"

namespace imsp2p::cli {

void add_tls_options(Tool& tool, sip::TlsOptions& options, const std::string& certificate_help)
{
    auto* group = tool.app().add_option_group("TLS", "SIP over TLS (sips: URIs, transport=tls)");
    group->add_option("--tls-ca", options.ca_file,
                      std::string("CA certificates (PEM) a peer's certificate must chain to (default: ") +
                          sip::system_ca_bundle + ")")
        ->type_name("FILE");
    group->add_option("--tls-cert", options.cert_file, certificate_help)->type_name("FILE");
    group->add_option("--tls-key", options.key_file, "Private key (PEM, unencrypted) of --tls-cert")->type_name("FILE");
    group->add_flag("--insecure", options.insecure,
                    "Do not verify the peer's TLS certificate (its chain and that it names the host)");
}

} // namespace imsp2p::cli
