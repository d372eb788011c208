// The testbed operator's certificate authority for the managed overlay
// (DESIGN.md §4): only core nodes holding a certificate it issued may write
// values that readers accept. Ed25519 keys and X.509 certificates on OpenSSL 3;
// files in PEM: ca.crt/ca.key, NAME.crt/NAME.key (keys 0600).
#pragma once

#include "util/hex.hpp"

#include <openssl/types.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <memory>
#include <string>

namespace imsp2p::dht {

using X509Ptr = std::shared_ptr<X509>;     // freed with X509_free
using PKeyPtr = std::shared_ptr<EVP_PKEY>; // freed with EVP_PKEY_free

// A certificate with its private key: the CA's, or a node's.
class Credential {
public:
    Credential(X509Ptr cert, PKeyPtr key);

    std::string name() const;       // the certificate's CN
    X509* cert() const { return cert_.get(); }
    EVP_PKEY* key() const { return key_.get(); }
    const X509Ptr& cert_ptr() const { return cert_; }
    Bytes cert_der() const;

    // dir/BASE.crt and dir/BASE.key; existing files are never overwritten.
    void save(const std::filesystem::path& dir, const std::string& base) const;
    // Failure(usage) naming the file: unreadable, not PEM, not Ed25519, or the
    // key does not belong to the certificate.
    static Credential load(const std::filesystem::path& dir, const std::string& base);

private:
    X509Ptr cert_;
    PKeyPtr key_;
};

class OverlayCa {
public:
    // A new CA: Ed25519 key and a self-signed certificate with CN `name`.
    static OverlayCa create(const std::string& name, std::chrono::seconds validity);
    static OverlayCa load(const std::filesystem::path& dir); // dir/ca.crt, dir/ca.key
    void save(const std::filesystem::path& dir) const;

    // A node credential (CN = node_name, a file-name-safe word) signed by this CA.
    Credential issue(const std::string& node_name, std::chrono::seconds validity) const;
    const Credential& credential() const { return credential_; }
    X509* cert() const { return credential_.cert(); }

private:
    explicit OverlayCa(Credential credential) : credential_(std::move(credential)) {}
    Credential credential_;
};

// Failure(usage) naming the file when it is unreadable or not a PEM certificate.
X509Ptr load_certificate(const std::filesystem::path& file);
X509Ptr certificate_from_der(const Bytes& der); // null when not a certificate
std::string certificate_name(X509* cert);      // the CN; empty when none

// Empty when `cert` was issued by `ca` and both are valid at `now`; otherwise
// why not (OpenSSL's reason). A CA certificate itself is refused: the CA key
// issues certificates, it does not write overlay values.
std::string verify_issued(X509* ca, X509* cert, std::time_t now);

// Loads dir/NAME.crt and dir/NAME.key and checks that the certificate chains
// to `ca` now. Failure(usage) naming the file and the cause.
Credential load_node_credential(const std::filesystem::path& dir, const std::string& name, X509* ca);

} // namespace imsp2p::dht
