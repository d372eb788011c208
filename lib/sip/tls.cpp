#include "sip/tls.hpp"

#include "cli/outcome.hpp"
#include "sip/uri.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <regex>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

// The verify policy values of sofia-sip's <sofia-sip/tport_tag.h>, which
// cannot be included here without the rest of sofia's headers.
namespace {
constexpr unsigned verify_none = 0x0;
constexpr unsigned verify_subjects_out = 0xA;
} // namespace

namespace imsp2p::sip {
namespace {

[[noreturn]] void usage(const std::string& message)
{
    throw Failure(Outcome::usage, message);
}

std::string read_file(const std::string& path, const char* option)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        usage(fmt::format("{} {}: {}", option, path, std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string openssl_reason()
{
    const unsigned long error = ERR_get_error();
    ERR_clear_error();
    const char* reason = error ? ERR_reason_error_string(error) : nullptr;
    return reason ? reason : "not PEM";
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;
using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio bio_of(const std::string& text)
{
    return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
}

Cert first_certificate(const std::string& path, const char* option)
{
    const std::string text = read_file(path, option);
    auto bio = bio_of(text);
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
    if (!cert)
        usage(fmt::format("{} {}: no PEM certificate in it ({})", option, path, openssl_reason()));
    return cert;
}

void write_private(const std::filesystem::path& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush())
        throw Failure(Outcome::local, fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
}

// What sofia-sip's transport logged about the last failed TLS connection.
struct TlsFailure {
    std::mutex mutex;
    std::string depth, subject, reason, mismatch, handshake;
    void clear()
    {
        depth.clear();
        subject.clear();
        reason.clear();
        mismatch.clear();
        handshake.clear();
    }
} failure_log;

} // namespace

void check_tls_options(const TlsOptions& options, bool need_certificate)
{
    if (options.cert_file.empty() != options.key_file.empty())
        usage(options.cert_file.empty() ? "--tls-key needs --tls-cert (the certificate it belongs to)"
                                        : "--tls-cert needs --tls-key (its private key)");
    if (need_certificate && options.cert_file.empty())
        usage("a TLS listener needs --tls-cert FILE and --tls-key FILE");
    if (!options.cert_file.empty()) {
        const Cert cert = first_certificate(options.cert_file, "--tls-cert");
        const std::string text = read_file(options.key_file, "--tls-key");
        auto bio = bio_of(text);
        Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
        if (!key)
            usage(fmt::format("--tls-key {}: no unencrypted PEM private key in it ({})", options.key_file, openssl_reason()));
        if (X509_check_private_key(cert.get(), key.get()) != 1) {
            ERR_clear_error();
            usage(fmt::format("--tls-key {} is not the key of the certificate in --tls-cert {}", options.key_file,
                              options.cert_file));
        }
    }
    if (!options.ca_file.empty())
        first_certificate(options.ca_file, "--tls-ca");
    else if (!options.insecure && access(system_ca_bundle, R_OK) != 0)
        usage(fmt::format("no CA to verify TLS peers with ({} is missing): give --tls-ca FILE, or --insecure",
                          system_ca_bundle));
}

std::string resolve_transport(const std::string& given, const SipUri& next_hop, const TlsOptions& tls)
{
    std::string transport = given;
    if (transport.empty())
        transport = !next_hop.transport.empty() ? next_hop.transport : next_hop.scheme == "sips" ? "tls" : "udp";
    if (transport != "udp" && transport != "tcp" && transport != "tls")
        usage(fmt::format("unknown transport '{}' (supported: udp, tcp, tls)", transport));
    if (!next_hop.transport.empty() && next_hop.transport != transport)
        usage(fmt::format("--transport {} contradicts transport={} in {}", transport, next_hop.transport, next_hop.text));
    if (next_hop.scheme == "sips" && transport != "tls")
        usage(fmt::format("{} is a sips: URI, which needs TLS, not {}", next_hop.text, transport));
    const bool tls_given = !tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty() || tls.insecure;
    if (transport != "tls" && tls_given)
        usage(fmt::format("--tls-ca, --tls-cert, --tls-key and --insecure need TLS (a sips: URI, transport=tls or "
                          "--transport tls); the transport to {} is {}", next_hop.text, transport));
    if (transport == "tls")
        check_tls_options(tls, false);
    return transport;
}

TlsDirectory::TlsDirectory(const TlsOptions& options)
    : policy_(options.insecure ? verify_none : verify_subjects_out)
{
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/imsp2p-tls-XXXXXX";
    if (!mkdtemp(pattern.data())) // mode 0700: the key copy stays ours
        throw Failure(Outcome::local, fmt::format("cannot create a directory for the TLS files: {}", std::strerror(errno)));
    path_ = pattern;
    const std::filesystem::path dir(path_);
    try {
        if (!options.cert_file.empty())
            write_private(dir / "agent.pem", read_file(options.cert_file, "--tls-cert") + "\n" +
                                                 read_file(options.key_file, "--tls-key"));
        const std::string ca = options.ca_file.empty() ? system_ca_bundle : options.ca_file;
        if (!options.insecure || !options.ca_file.empty())
            write_private(dir / "cafile.pem", read_file(ca, "--tls-ca"));
    } catch (...) {
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
        throw;
    }
    std::lock_guard lock(failure_log.mutex);
    failure_log.clear();
}

TlsDirectory::~TlsDirectory()
{
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

void note_tport_log_line(const std::string& line)
{
    static const std::regex depth(R"(Error with certificate at depth: (\d+))");
    static const std::regex subject(R"(^\s*subject\s*=\s*(.*)$)");
    static const std::regex reason(R"(^\s*err (\d+):(.*)$)");
    static const std::regex mismatch(R"(Peer Subject Mismatch \(([^)]*)\))");
    // A failed handshake shows as the OpenSSL error of the read or write that
    // met it, e.g. "tls_read: SSL_read: 0a00045c:SSL routines:(null):tlsv13
    // alert certificate required" (tls_init_context's complaints at start-up,
    // such as no client certificate, are not failures of a connection).
    static const std::regex setup(R"(^(?!tls_init_context).*: [0-9a-f]{8}:SSL routines:[^:]*:(.+)$)");
    std::smatch match;
    std::lock_guard lock(failure_log.mutex);
    if (std::regex_search(line, match, depth)) {
        failure_log.depth = match[1];
        failure_log.subject.clear();
        failure_log.reason.clear();
        failure_log.mismatch.clear();
    } else if (std::regex_search(line, match, subject)) {
        failure_log.subject = match[1];
    } else if (std::regex_search(line, match, reason)) {
        failure_log.reason = match[2];
    } else if (std::regex_search(line, match, mismatch)) {
        failure_log.mismatch = match[1];
    } else if (std::regex_search(line, match, setup)) {
        failure_log.handshake = match[1];
    }
}

std::string take_tls_failure()
{
    std::lock_guard lock(failure_log.mutex);
    std::string why;
    if (!failure_log.reason.empty())
        why = fmt::format("its certificate (subject {}, depth {} of the chain) did not verify: {}",
                          failure_log.subject.empty() ? "unknown" : failure_log.subject, failure_log.depth,
                          failure_log.reason);
    else if (!failure_log.mismatch.empty())
        why = fmt::format("its certificate does not name {} (no matching subjectAltName or CN)", failure_log.mismatch);
    else if (!failure_log.handshake.empty())
        why = fmt::format("the handshake failed: {}", failure_log.handshake);
    failure_log.clear();
    return why;
}

std::string tls_failure_message(const std::string& destination)
{
    const std::string why = take_tls_failure();
    return why.empty() ? std::string() : fmt::format("TLS to {} failed: {}", destination, why);
}

} // namespace imsp2p::sip
