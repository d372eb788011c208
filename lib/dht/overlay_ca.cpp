#include "dht/overlay_ca.hpp"

#include "cli/outcome.hpp"
#include "dht/state_files.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <functional>

namespace imsp2p::dht {
namespace {

template <typename T, void (*Free)(T*)>
std::shared_ptr<T> own(T* p)
{
    return p ? std::shared_ptr<T>(p, Free) : nullptr;
}

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;

// OpenSSL's reason for the last failure (and an empty error queue after).
std::string openssl_error()
{
    const unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0)
        return "unknown OpenSSL error";
    const char* reason = ERR_reason_error_string(code);
    return reason ? reason : fmt::format("OpenSSL error {:#x}", code);
}

Failure local_error(const std::string& what)
{
    return Failure(Outcome::local, fmt::format("{}: {}", what, openssl_error()));
}

// Names become file names (NAME.crt): keep them to one plain word.
void check_name(const std::string& name)
{
    const bool safe = !name.empty() && name.size() <= 64 && name != "ca" && name.front() != '.' &&
                      name.front() != '-' && std::all_of(name.begin(), name.end(), [](char c) {
                          return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                                 c == '.' || c == '_' || c == '-';
                      });
    if (!safe)
        throw Failure(Outcome::usage,
                      fmt::format("'{}' is not a usable node name (letters, digits, '.', '_', '-'; not 'ca')", name));
}

PKeyPtr new_ed25519_key()
{
    auto key = own<EVP_PKEY, EVP_PKEY_free>(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    if (!key)
        throw local_error("cannot make an Ed25519 key");
    return key;
}

void add_extension(X509* cert, X509V3_CTX& ctx, int nid, const char* value)
{
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext)
        throw local_error(fmt::format("cannot make the X.509 extension {}", value));
    const int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    if (!ok)
        throw local_error("cannot add an X.509 extension");
}

// A certificate for `key` with CN `name`, signed by issuer (or self-signed when
// issuer is null). The CA may issue certificates; a node may only sign.
X509Ptr make_certificate(const std::string& name, EVP_PKEY* key, const Credential* issuer, std::chrono::seconds validity)
{
    auto cert = own<X509, X509_free>(X509_new());
    if (!cert || !X509_set_version(cert.get(), X509_VERSION_3))
        throw local_error("cannot make a certificate");
    unsigned char serial[16];
    if (RAND_bytes(serial, sizeof serial) != 1)
        throw local_error("cannot make a serial number");
    serial[0] &= 0x7f; // positive
    std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(serial, sizeof serial, nullptr), BN_free);
    if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())))
        throw local_error("cannot set the serial number");
    X509_NAME* subject = X509_get_subject_name(cert.get());
    const auto* cn = reinterpret_cast<const unsigned char*>(name.c_str());
    if (!X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, cn, -1, -1, 0))
        throw local_error("cannot set the certificate's name");
    X509* issuer_cert = issuer ? issuer->cert() : cert.get();
    EVP_PKEY* issuer_key = issuer ? issuer->key() : key;
    // A minute of slack for nodes whose clocks run a little behind.
    const std::time_t now = std::time(nullptr);
    if (!X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer_cert)) ||
        !ASN1_TIME_set(X509_getm_notBefore(cert.get()), now - 60) ||
        !ASN1_TIME_set(X509_getm_notAfter(cert.get()), now + static_cast<std::time_t>(validity.count())) ||
        !X509_set_pubkey(cert.get(), key))
        throw local_error("cannot fill the certificate");
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer_cert, cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), ctx, NID_subject_key_identifier, "hash");
    if (issuer) {
        add_extension(cert.get(), ctx, NID_basic_constraints, "critical,CA:FALSE");
        add_extension(cert.get(), ctx, NID_key_usage, "critical,digitalSignature");
        add_extension(cert.get(), ctx, NID_authority_key_identifier, "keyid:always");
    } else {
        add_extension(cert.get(), ctx, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
        add_extension(cert.get(), ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (X509_sign(cert.get(), issuer_key, nullptr) <= 0) // Ed25519 takes no digest
        throw local_error("cannot sign the certificate");
    return cert;
}

std::string pem_of(const std::function<int(BIO*)>& write)
{
    BioPtr bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || write(bio.get()) != 1)
        throw local_error("cannot encode PEM");
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

BioPtr bio_of(const std::string& text)
{
    BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
    if (!bio)
        throw local_error("cannot read PEM");
    return bio;
}

bool is_ed25519(EVP_PKEY* key)
{
    return key && EVP_PKEY_get_id(key) == EVP_PKEY_ED25519;
}

PKeyPtr load_key(const std::filesystem::path& file)
{
    const std::string text = read_file(file);
    // No passphrase callback: an encrypted key must fail, never prompt on a TTY.
    pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
    auto key = own<EVP_PKEY, EVP_PKEY_free>(
        PEM_read_bio_PrivateKey(bio_of(text).get(), nullptr, no_passphrase, nullptr));
    if (!key)
        throw Failure(Outcome::usage, fmt::format("{}: not a PEM private key ({})", file.string(), openssl_error()));
    if (!is_ed25519(key.get()))
        throw Failure(Outcome::usage, fmt::format("{}: not an Ed25519 key", file.string()));
    return key;
}

} // namespace

Credential::Credential(X509Ptr cert, PKeyPtr key) : cert_(std::move(cert)), key_(std::move(key)) {}

std::string Credential::name() const
{
    return certificate_name(cert_.get());
}

std::string certificate_name(X509* cert)
{
    const X509_NAME* subject = X509_get_subject_name(cert);
    const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (index < 0)
        return {};
    unsigned char* utf8 = nullptr;
    const int size = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
    if (size < 0)
        return {};
    std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(size));
    OPENSSL_free(utf8);
    return out;
}

Bytes Credential::cert_der() const
{
    unsigned char* der = nullptr;
    const int size = i2d_X509(cert_.get(), &der);
    if (size <= 0)
        throw local_error("cannot encode the certificate");
    Bytes out(der, der + size);
    OPENSSL_free(der);
    return out;
}

void Credential::save(const std::filesystem::path& dir, const std::string& base) const
{
    const auto cert_pem = pem_of([&](BIO* bio) { return PEM_write_bio_X509(bio, cert_.get()); });
    const auto key_pem = pem_of([&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
    });
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error)
        throw Failure(Outcome::local, fmt::format("{}: cannot create: {}", dir.string(), error.message()));
    write_file(dir / (base + ".key"), key_pem, 0600, true);
    write_file(dir / (base + ".crt"), cert_pem, 0644, true);
}

Credential Credential::load(const std::filesystem::path& dir, const std::string& base)
{
    const auto cert_file = dir / (base + ".crt");
    const auto key_file = dir / (base + ".key");
    auto cert = load_certificate(cert_file);
    if (!is_ed25519(X509_get0_pubkey(cert.get())))
        throw Failure(Outcome::usage, fmt::format("{}: not an Ed25519 certificate", cert_file.string()));
    auto key = load_key(key_file);
    if (X509_check_private_key(cert.get(), key.get()) != 1) {
        ERR_clear_error();
        throw Failure(Outcome::usage, fmt::format("{}: not the key of {}", key_file.string(), cert_file.string()));
    }
    return Credential(std::move(cert), std::move(key));
}

OverlayCa OverlayCa::create(const std::string& name, std::chrono::seconds validity)
{
    if (name.empty())
        throw Failure(Outcome::usage, "the CA needs a name");
    auto key = new_ed25519_key();
    auto cert = make_certificate(name, key.get(), nullptr, validity);
    return OverlayCa(Credential(std::move(cert), std::move(key)));
}

OverlayCa OverlayCa::load(const std::filesystem::path& dir)
{
    auto credential = Credential::load(dir, "ca");
    if (X509_check_ca(credential.cert()) == 0)
        throw Failure(Outcome::usage, fmt::format("{}: not a CA certificate", (dir / "ca.crt").string()));
    return OverlayCa(std::move(credential));
}

void OverlayCa::save(const std::filesystem::path& dir) const
{
    credential_.save(dir, "ca");
}

Credential OverlayCa::issue(const std::string& node_name, std::chrono::seconds validity) const
{
    check_name(node_name);
    auto key = new_ed25519_key();
    auto cert = make_certificate(node_name, key.get(), &credential_, validity);
    return Credential(std::move(cert), std::move(key));
}

X509Ptr load_certificate(const std::filesystem::path& file)
{
    const std::string text = read_file(file);
    auto cert = own<X509, X509_free>(PEM_read_bio_X509(bio_of(text).get(), nullptr, nullptr, nullptr));
    if (!cert)
        throw Failure(Outcome::usage, fmt::format("{}: not a PEM certificate ({})", file.string(), openssl_error()));
    return cert;
}

X509Ptr certificate_from_der(const Bytes& der)
{
    const unsigned char* p = der.data();
    auto cert = own<X509, X509_free>(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!cert || p != der.data() + der.size()) { // trailing bytes: not one certificate
        ERR_clear_error();
        return nullptr;
    }
    return cert;
}

std::string verify_issued(X509* ca, X509* cert, std::time_t now)
{
    if (X509_check_ca(cert) != 0)
        return "a CA certificate, not a node's";
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    if (!store || !ctx || !X509_STORE_add_cert(store.get(), ca) ||
        !X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr))
        return "cannot set up the verification: " + openssl_error();
    X509_STORE_CTX_set_time(ctx.get(), 0, now);
    if (X509_verify_cert(ctx.get()) == 1)
        return {};
    ERR_clear_error();
    return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

Credential load_node_credential(const std::filesystem::path& dir, const std::string& name, X509* ca)
{
    check_name(name);
    auto credential = Credential::load(dir, name);
    if (const auto why = verify_issued(ca, credential.cert(), std::time(nullptr)); !why.empty())
        throw Failure(Outcome::usage,
                      fmt::format("{}: not valid under the overlay CA: {}", (dir / (name + ".crt")).string(), why));
    return credential;
}

} // namespace imsp2p::dht
