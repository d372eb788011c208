// Digest AKA (RFC 3310, RFC 4169) between the two sides of AKA.
#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "util/base64.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p;
using namespace imsp2p::auth;

TEST_CASE("base64 round trip and rejects")
{
    CHECK(base64_encode(std::string("\0\1\2", 3)) == "AAEC");
    CHECK(base64_encode("ab") == "YWI=");
    CHECK(base64_decode("YWI=") == Bytes{'a', 'b'});
    CHECK(base64_decode("YQ==") == Bytes{'a'});
    CHECK(base64_decode("")->empty());
    CHECK_FALSE(base64_decode("YWI"));
    CHECK_FALSE(base64_decode("Y=I="));
    CHECK_FALSE(base64_decode("YW!="));
}

TEST_CASE("AKA nonces carry RAND and AUTN, with optional server data")
{
    aka::Block rand{}, autn{};
    rand[0] = 1;
    autn[15] = 2;
    const auto decoded = decode_aka_nonce(encode_aka_nonce(rand, autn, "server-data"));
    REQUIRE(decoded);
    CHECK(decoded->rand == rand);
    CHECK(decoded->autn == autn);
    CHECK_FALSE(decode_aka_nonce(base64_encode(std::string(31, 'x'))));
    CHECK_FALSE(decode_aka_nonce("not base64!"));
}

TEST_CASE("AKAv1 uses RES raw as the password, zero bytes included")
{
    const aka::Mac res{0x00, 0x11, 0x00, 0x22, 0x00, 0x33, 0x00, 0x44};
    const std::string password = aka_password(1, res, {}, {});
    REQUIRE(password.size() == 8);
    CHECK(password[0] == '\0');

    Challenge challenge;
    challenge.realm = "ims.test";
    challenge.nonce = "nonce";
    challenge.algorithm = "AKAv1-MD5";
    challenge.parsed_algorithm = *parse_digest_algorithm("AKAv1-MD5");
    challenge.qop_auth = true;
    DigestAnswer answer{"alice@ims.test", password, "REGISTER", "sip:ims.test", "c", 1, ""};
    const std::string ha1 = digest_hex(DigestHash::md5, "alice@ims.test:ims.test:" + password);
    CHECK(ha1 != digest_hex(DigestHash::md5, "alice@ims.test:ims.test:")); // the NULs were not cut off
    const std::string ha2 = digest_hex(DigestHash::md5, "REGISTER:sip:ims.test");
    CHECK(digest_response(challenge, answer) == digest_hex(DigestHash::md5, ha1 + ":nonce:00000001:c:auth:" + ha2));
    CHECK(digest_credentials(challenge, answer).find("algorithm=AKAv1-MD5") != std::string::npos);
}

TEST_CASE("AKAv2 derives the password from RES, IK and CK (RFC 4169)")
{
    const aka::Mac res{1, 2, 3, 4, 5, 6, 7, 8};
    aka::Block ik{}, ck{};
    ik.fill(0xaa);
    ck.fill(0x55);
    const std::string password = aka_password(2, res, ik, ck);
    CHECK(password.size() == 24); // base64 of a 16-byte HMAC-MD5
    CHECK(password != aka_password(2, res, ck, ik));
    CHECK(base64_decode(password)->size() == 16);
    CHECK(parse_digest_algorithm("akav2-md5")->aka == 2);
}

TEST_CASE("a resynchronisation carries auts")
{
    Challenge challenge;
    challenge.realm = "ims.test";
    challenge.nonce = "n";
    challenge.parsed_algorithm = *parse_digest_algorithm("AKAv1-MD5");
    DigestAnswer answer{"alice@ims.test", "", "REGISTER", "sip:ims.test", "", 1, "AAECAwQFBgcICQoLDA0="};
    CHECK(digest_credentials(challenge, answer).ends_with(", auts=\"AAECAwQFBgcICQoLDA0=\""));
}
