// SIP over TLS: the certificate, key and CA files the tools take, checked up
// front, and handed to sofia-sip's tport in the one form it reads them (a
// directory holding agent.pem and cafile.pem).
#pragma once

#include <string>

namespace imsp2p::sip {

struct SipUri;

struct TlsOptions {
    std::string ca_file;   // --tls-ca: CA certificates peers must chain to; empty: the system's bundle
    std::string cert_file; // --tls-cert: our certificate (PEM, may carry its chain)
    std::string key_file;  // --tls-key: its private key (PEM, unencrypted)
    bool insecure = false; // --insecure: do not verify the peer's certificate
};

// The system's CA bundle (Debian's ca-certificates).
inline constexpr const char* system_ca_bundle = "/etc/ssl/certs/ca-certificates.crt";

// Throws Failure(usage) naming the option, the file and why: unreadable, no
// PEM certificate or key in it, a key that is not the certificate's, a
// certificate without a key, or no CA to verify with (and no --insecure).
// `need_certificate`: a TLS server (p2p-node --tls-listen) must have one.
void check_tls_options(const TlsOptions& options, bool need_certificate);

// The transport towards a next hop: `given` (--transport), else the URI's
// transport= parameter, else tls for a sips: URI, else udp. Throws
// Failure(usage) on a contradiction, a sips: URI over another transport, TLS
// options without TLS, and bad TLS files (check_tls_options).
std::string resolve_transport(const std::string& given, const SipUri& next_hop, const TlsOptions& tls);

// A private temporary directory with agent.pem (certificate, then key) and
// cafile.pem, as sofia-sip's TPTAG_CERTIFICATE expects. sofia reads them when
// the transport is created, so the directory (and the key copy in it) is
// removed as soon as this object goes, right after the stack is built.
class TlsDirectory {
public:
    explicit TlsDirectory(const TlsOptions& options); // Failure(local) when it cannot write
    ~TlsDirectory();
    TlsDirectory(const TlsDirectory&) = delete;
    TlsDirectory& operator=(const TlsDirectory&) = delete;

    const std::string& path() const { return path_; }
    // TPTAG_TLS_VERIFY_POLICY: our outgoing connections verify the peer's
    // chain and that its certificate names the host we connect to; incoming
    // connections (UEs without client certificates) are not verified.
    unsigned policy() const { return policy_; }

private:
    std::string path_;
    unsigned policy_ = 0;
};

// Why the last TLS connection sofia-sip gave up on failed, from its transport
// log (it reports nothing else): e.g. "the certificate of 127.0.0.1 (subject
// /CN=x) did not verify: unable to get local issuer certificate". Empty when no
// TLS failure was seen. take_* clears it.
std::string take_tls_failure();
// Fed with every line of sofia-sip's transport log (sofia_init.cpp).
void note_tport_log_line(const std::string& line);

// The message of a request that got no answer because TLS failed: "TLS to
// DESTINATION failed: WHY", or empty when no TLS failure was seen.
std::string tls_failure_message(const std::string& destination);

} // namespace imsp2p::sip
