// Digest responses checked against the worked examples of RFC 2617 §3.5 and RFC 7616 §3.9.1.
#include "auth/digest.hpp"
#include "auth/digest_parts.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p::auth;

TEST_CASE("RFC 2617 example: MD5 with qop=auth")
{
    Challenge challenge;
    challenge.realm = "testrealm@host.com";
    challenge.nonce = "dcd98b7102dd2f0e8b11d0f600bfb0c093";
    challenge.qop_auth = true;
    DigestAnswer answer{"Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b", 1, ""};
    CHECK(digest_response(challenge, answer) == "6629fae49393a05397450978507c4ef1");
    // In two steps, as a server keeps HA1 for the requests on one nonce.
    CHECK(digest_ha1(challenge, answer) == "939e7578ed9e3c518a452acee763bce9");
    CHECK(digest_response_from_ha1(challenge, answer, "939e7578ed9e3c518a452acee763bce9") == "6629fae49393a05397450978507c4ef1");
}

TEST_CASE("RFC 7616 example: MD5 and SHA-256")
{
    Challenge challenge;
    challenge.realm = "http-auth@example.org";
    challenge.nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    challenge.opaque = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
    challenge.qop_auth = true;
    DigestAnswer answer{"Mufasa", "Circle of Life", "GET", "/dir/index.html",
                        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", 1, ""};
    challenge.parsed_algorithm = {DigestHash::md5, false};
    CHECK(digest_response(challenge, answer) == "8ca523f5e9506fed4657c9700eebdbec");
    challenge.algorithm = "SHA-256";
    challenge.parsed_algorithm = {DigestHash::sha256, false};
    CHECK(digest_response(challenge, answer) == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");

    const std::string credentials = digest_credentials(challenge, answer);
    CHECK(credentials.starts_with("Digest username=\"Mufasa\", realm=\"http-auth@example.org\""));
    CHECK(credentials.find("algorithm=SHA-256") != std::string::npos);
    CHECK(credentials.find("qop=auth, nc=00000001, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\"") !=
          std::string::npos);
    CHECK(credentials.find("opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"") != std::string::npos);
}

TEST_CASE("Digest without qop (RFC 2069 form) and password bytes with NUL")
{
    Challenge challenge;
    challenge.realm = "ims.test";
    challenge.nonce = "abc";
    DigestAnswer answer{"alice@ims.test", std::string("p\0w", 3), "REGISTER", "sip:ims.test", "", 1, ""};
    const std::string ha1 = digest_hex(DigestHash::md5, std::string("alice@ims.test:ims.test:p\0w", 27));
    const std::string ha2 = digest_hex(DigestHash::md5, "REGISTER:sip:ims.test");
    CHECK(digest_response(challenge, answer) == digest_hex(DigestHash::md5, ha1 + ":abc:" + ha2));
    CHECK(digest_credentials(challenge, answer).find("qop") == std::string::npos);
}

TEST_CASE("Digest algorithm names")
{
    CHECK(parse_digest_algorithm("")->hash == DigestHash::md5);
    CHECK(parse_digest_algorithm("md5")->hash == DigestHash::md5);
    CHECK(parse_digest_algorithm("SHA-256-sess")->session);
    CHECK_FALSE(parse_digest_algorithm("SHA-512-256"));
    CHECK(parse_digest_algorithm("AKAv1-MD5")->aka == 1);
    CHECK(digest_algorithm_name({DigestHash::sha256, true}) == "SHA-256-sess");
    CHECK(make_cnonce().size() == 32);
    CHECK(make_cnonce() != make_cnonce());
}
