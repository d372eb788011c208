#include "probe/license_probe.hpp"

#include "probe/test_license.hpp"

#include <fmt/format.h>
#include <httplib.h>
#include <openssl/http.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <chrono>
#include <cmath>
#include <memory>

namespace imsp2p::probe {
namespace {

using Clock = std::chrono::steady_clock;

struct Url {
    bool tls = false;
    std::string host;
    int port = 0;
    std::string path; // with the query
};

Url parse_url(const std::string& text)
{
    int ssl = 0, port = 0;
    char *user = nullptr, *host = nullptr, *port_text = nullptr, *path = nullptr, *query = nullptr, *fragment = nullptr;
    // OpenSSL's URL parser; it accepts a missing scheme as http, which a probe should not guess.
    const bool parsed = text.find("://") != std::string::npos &&
                        OSSL_HTTP_parse_url(text.c_str(), &ssl, &user, &host, &port_text, &port, &path, &query, &fragment) == 1;
    Url url;
    if (parsed) {
        url.tls = ssl != 0;
        url.host = host;
        url.port = port;
        url.path = path;
        if (query && *query)
            url.path += std::string("?") + query;
    }
    for (char* p : {user, host, port_text, path, query, fragment})
        OPENSSL_free(p);
    if (!parsed || url.host.empty())
        throw Failure(Outcome::usage, fmt::format("license: '{}' is not an http:// or https:// URL", text));
    return url;
}

// What the TLS handshake showed, caught by an OpenSSL info callback on
// httplib's own context, so the probe sees the very connection it timed.
struct TlsSeen {
    bool done = false;
    long verify = X509_V_OK;
    std::string version, cipher, subject, issuer, not_after;
    double days_left = 0;
    bool host_matches = false;
    std::string host;
};

int tls_index()
{
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

std::string name_of(const X509_NAME* name)
{
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_ONELINE & ~ASN1_STRFLGS_ESC_MSB);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

void on_tls_info(const SSL* ssl, int where, int)
{
    if (!(where & SSL_CB_HANDSHAKE_DONE))
        return;
    auto* seen = static_cast<TlsSeen*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_index()));
    if (!seen || seen->done)
        return;
    seen->done = true;
    seen->verify = SSL_get_verify_result(ssl);
    seen->version = SSL_get_version(ssl);
    seen->cipher = SSL_get_cipher_name(ssl);
    std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), X509_free);
    if (!cert)
        return;
    seen->subject = name_of(X509_get_subject_name(cert.get()));
    seen->issuer = name_of(X509_get_issuer_name(cert.get()));
    int days = 0, seconds = 0;
    const ASN1_TIME* end = X509_get0_notAfter(cert.get());
    if (ASN1_TIME_diff(&days, &seconds, nullptr, end) == 1)
        seen->days_left = days + seconds / 86400.0;
    std::tm tm{};
    if (ASN1_TIME_to_tm(end, &tm) == 1)
        seen->not_after = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                                      tm.tm_hour, tm.tm_min, tm.tm_sec);
    in6_addr scratch{};
    const bool ip = inet_pton(AF_INET, seen->host.c_str(), &scratch) == 1 || inet_pton(AF_INET6, seen->host.c_str(), &scratch) == 1;
    seen->host_matches = ip ? X509_check_ip_asc(cert.get(), seen->host.c_str(), 0) == 1
                            : X509_check_host(cert.get(), seen->host.c_str(), 0, 0, nullptr) == 1;
}

// Any credential option asks for the test licence (and then needs --impi).
bool wants_test_license(const LicenseProbeOptions& options)
{
    const auto& c = options.credentials;
    return !options.kid.empty() || !c.impi.empty() || !c.password.empty() || !c.k.empty() || !c.subscribers.empty();
}

} // namespace

void check(const LicenseProbeOptions& options)
{
    parse_url(options.url);
    if (wants_test_license(options))
        check_test_license(options);
}

ProbeResult probe_license(const LicenseProbeOptions& options)
{
    const auto url = parse_url(options.url);
    ProbeResult result;
    result.probe = "license";
    result.target = options.url;

    const auto base = fmt::format("{}://{}:{}", url.tls ? "https" : "http", url.host, url.port);
    httplib::Client client(base);
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(options.timeout * 1000));
    client.set_connection_timeout(timeout);
    client.set_read_timeout(timeout);
    client.set_write_timeout(timeout);
    TlsSeen seen;
    seen.host = url.host;
    if (url.tls) {
        // httplib's own check would refuse the connection on any certificate
        // problem; the probe connects anyway and reports what it found.
        client.enable_server_certificate_verification(false);
        auto* ctx = client.ssl_context();
        if (!ctx)
            throw Failure(Outcome::local, "license: cannot set up TLS");
        const bool loaded = options.ca_file.empty() ? SSL_CTX_set_default_verify_paths(ctx) == 1
                                                    : SSL_CTX_load_verify_locations(ctx, options.ca_file.c_str(), nullptr) == 1;
        if (!loaded)
            throw Failure(Outcome::usage, fmt::format("license: cannot read CA certificates from {}",
                                                      options.ca_file.empty() ? "the system store" : options.ca_file));
        SSL_CTX_set_ex_data(ctx, tls_index(), &seen);
        SSL_CTX_set_info_callback(ctx, on_tls_info);
    }
    client.set_default_headers({{"User-Agent", "imsp2p overlay-probe"}});
    const auto started = Clock::now();
    const auto response = client.Get(url.path.c_str());
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    if (url.tls)
        SSL_CTX_set_info_callback(client.ssl_context(), nullptr);

    result.fields["url"] = options.url;
    if (!response) {
        result.outcome = Outcome::no_answer;
        result.error = fmt::format("{}: {}", base, httplib::to_string(response.error()));
        result.summary = result.error;
        result.metric("nodes", 0);
        return result;
    }
    result.metric("nodes", 1);
    result.metric("rtt_ms", ms);
    result.fields["http_status"] = response->status;
    result.fields["rtt_ms"] = std::round(ms * 1000) / 1000;
    result.fields["server"] = response->get_header_value("Server");
    result.detail += fmt::format("{}\n  HTTP {} in {:.2f} ms{}\n", options.url, response->status, ms,
                                 response->has_header("Server") ? fmt::format(", server \"{}\"", response->get_header_value("Server")) : "");
    std::string tls_text;
    if (url.tls && seen.done) {
        const bool trusted = seen.verify == X509_V_OK;
        result.metric("cert_days", seen.days_left);
        result.fields["tls"] = {{"version", seen.version},
                                {"cipher", seen.cipher},
                                {"subject", seen.subject},
                                {"issuer", seen.issuer},
                                {"not_after", seen.not_after},
                                {"days_left", std::floor(seen.days_left * 10) / 10},
                                {"verified", trusted},
                                {"verify_error", trusted ? "" : X509_verify_cert_error_string(seen.verify)},
                                {"host_matches", seen.host_matches}};
        result.detail += fmt::format("  TLS {} {}, certificate \"{}\" from \"{}\"\n  expires {} ({:.1f} days), {}{}\n", seen.version,
                                     seen.cipher, seen.subject, seen.issuer, seen.not_after, seen.days_left,
                                     trusted ? "trusted" : fmt::format("NOT trusted: {}", X509_verify_cert_error_string(seen.verify)),
                                     seen.host_matches ? "" : fmt::format(", NOT issued for {}", url.host));
        tls_text = seen.days_left < 0 ? fmt::format(", certificate EXPIRED {:.0f} days ago", -seen.days_left)
                                      : fmt::format(", certificate expires in {:.0f} days", seen.days_left);
        if (seen.days_left < 0) {
            result.outcome = Outcome::negative;
            result.error = fmt::format("the TLS certificate expired on {}", seen.not_after);
        } else if (!trusted || !seen.host_matches) {
            result.outcome = Outcome::negative;
            result.error = !trusted ? fmt::format("the TLS certificate is not trusted: {}", X509_verify_cert_error_string(seen.verify))
                                    : fmt::format("the TLS certificate is not for {}", url.host);
        }
    }
    // Any answer below 500 shows a serving server (a GET on an API path may well get 404 or 405).
    if (response->status >= 500 && result.outcome == Outcome::ok) {
        result.outcome = Outcome::negative;
        result.error = fmt::format("HTTP {}", response->status);
    }
    std::string test_text;
    if (wants_test_license(options)) {
        if (result.outcome == Outcome::ok)
            test_text = ", " + test_license(options, base, result);
        else
            result.detail += "  test licence not tried: the server is not healthy\n";
    }
    result.summary = fmt::format("HTTP {} in {:.1f} ms{}{}", response->status, ms, tls_text, test_text);
    if (!result.error.empty())
        result.summary = result.error + "; " + result.summary;
    return result;
}

} // namespace imsp2p::probe
