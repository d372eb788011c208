#include "cli/outcome.hpp"
#include "sip/tls.hpp"
#include "sip/uri.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p;

// Lines as this sofia-sip build writes them to its transport log.
TEST_CASE("a chain that does not verify is reported with the certificate and the reason")
{
    sip::take_tls_failure();
    sip::note_tport_log_line("-Error with certificate at depth: 1");
    sip::note_tport_log_line("  issuer   = /CN=ca");
    sip::note_tport_log_line("  subject  = /CN=ca");
    sip::note_tport_log_line("  err 19:self-signed certificate in certificate chain");
    CHECK(sip::tls_failure_message("sips:127.0.0.1:5061") ==
          "TLS to sips:127.0.0.1:5061 failed: its certificate (subject /CN=ca, depth 1 of the chain) did not verify: "
          "self-signed certificate in certificate chain");
    CHECK(sip::take_tls_failure().empty()); // taken once
}

TEST_CASE("a certificate for another host and a failed handshake are reported")
{
    sip::note_tport_log_line("tls_post_connection_check(0x5555): Peer Subject Mismatch (127.0.0.4)");
    CHECK(sip::take_tls_failure() == "its certificate does not name 127.0.0.4 (no matching subjectAltName or CN)");
    // Start-up complaints (no client certificate configured) are no failure.
    sip::note_tport_log_line("tls_init_context: 0a080002:SSL routines:(null):system lib");
    CHECK(sip::take_tls_failure().empty());
    sip::note_tport_log_line("tls_read: SSL_read: 0a00045c:SSL routines:(null):tlsv13 alert certificate required");
    CHECK(sip::take_tls_failure() == "the handshake failed: tlsv13 alert certificate required");
}

TEST_CASE("the transport follows the URI; sips: needs TLS; TLS options need TLS")
{
    const sip::TlsOptions none;
    sip::TlsOptions insecure;
    insecure.insecure = true;
    CHECK(sip::resolve_transport("", sip::parse_sip_uri("sip:127.0.0.1", "--proxy"), none) == "udp");
    CHECK(sip::resolve_transport("", sip::parse_sip_uri("sips:127.0.0.1", "--proxy"), insecure) == "tls");
    CHECK(sip::resolve_transport("", sip::parse_sip_uri("sip:127.0.0.1;transport=tls", "--proxy"), insecure) == "tls");
    CHECK(sip::resolve_transport("tls", sip::parse_sip_uri("sip:127.0.0.1", "--proxy"), insecure) == "tls");
    auto usage = [](const std::string& given, const std::string& uri, const sip::TlsOptions& tls) {
        try {
            sip::resolve_transport(given, sip::parse_sip_uri(uri, "--proxy"), tls);
        } catch (const Failure& failure) {
            return failure.outcome() == Outcome::usage;
        }
        return false;
    };
    CHECK(usage("tcp", "sips:127.0.0.1", insecure));
    CHECK(usage("", "sip:127.0.0.1", insecure));
    CHECK(usage("udp", "sip:127.0.0.1;transport=tls", insecure));
}
