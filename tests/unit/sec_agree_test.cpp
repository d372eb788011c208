// sec-agree: ESP keys from IK and CK (TS 33.203 Annex I), the ipsec-3gpp
// header entries through sofia-sip's parser, the client's choice, the
// P-CSCF's stateless Security-Verify check, and the layout of the UE's SAs.
#include "cli/outcome.hpp"
#include "core/sec_agree_server.hpp"
#include "secagree/esp_keys.hpp"
#include "secagree/ipsec_params.hpp"
#include "secagree/xfrm_sas.hpp"
#include "sip/sofia.hpp"

#include <catch2/catch.hpp>

#include <sofia-sip/sip_header.h>

#include <algorithm>

using namespace imsp2p;
using namespace imsp2p::secagree;

namespace {

aka::Block block(std::uint8_t first)
{
    aka::Block b{};
    for (std::size_t i = 0; i < b.size(); ++i)
        b[i] = static_cast<std::uint8_t>(first + i);
    return b;
}

struct Headers {
    su_home_t home[1] = {SU_HOME_INIT(home)};
    sip_t sip{};
    Headers(const char* call_id, const char* client, const char* verify = nullptr)
    {
        sip.sip_call_id = sip_call_id_make(home, call_id);
        sip.sip_security_client = client ? sip_security_client_make(home, client) : nullptr;
        sip.sip_security_verify = verify ? sip_security_verify_make(home, verify) : nullptr;
    }
    ~Headers() { su_home_deinit(home); }
};

} // namespace

TEST_CASE("ESP keys: HMAC-SHA-1-96 pads IK with 32 zero bits, HMAC-MD5-96 takes IK, AES-CBC takes CK")
{
    const auto ck = block(0x10), ik = block(0x40);
    const auto sha = derive_esp_keys("hmac-sha-1-96", "aes-cbc", ck, ik);
    CHECK(to_hex(sha.integrity) == "404142434445464748494a4b4c4d4e4f00000000");
    CHECK(to_hex(sha.encryption) == "101112131415161718191a1b1c1d1e1f");
    CHECK(sha.xfrm_auth == "hmac(sha1)");
    CHECK(sha.xfrm_enc == "cbc(aes)");
    const auto md5 = derive_esp_keys("hmac-md5-96", "null", ck, ik);
    CHECK(to_hex(md5.integrity) == "404142434445464748494a4b4c4d4e4f");
    CHECK(md5.encryption.empty());
    CHECK(md5.xfrm_auth == "hmac(md5)");
    CHECK_THROWS_AS(derive_esp_keys("hmac-sha-256", "null", ck, ik), std::invalid_argument);
    CHECK_THROWS_AS(derive_esp_keys("hmac-md5-96", "des-ede3-cbc", ck, ik), std::invalid_argument);
}

TEST_CASE("ipsec-3gpp entries survive sofia-sip's parser; malformed ones are named")
{
    const IpsecParams a{"hmac-sha-1-96", "aes-cbc", 1111, 2222, 5062, 5063, ""};
    const IpsecParams b{"hmac-md5-96", "null", 1111, 2222, 5062, 5063, "0.5"};
    su_home_t home[1] = {SU_HOME_INIT(home)};
    const std::string text = header_value({a, b}) + ", digest;d-alg=md5, ipsec-3gpp;alg=hmac-md5-96;spi-c=1;port-c=2";
    auto* parsed = sip_security_client_make(home, text.c_str());
    REQUIRE(parsed);
    std::vector<std::string> rejected;
    const auto read = read_ipsec(parsed, &rejected);
    REQUIRE(read.size() == 2);
    CHECK(read[0] == a);
    CHECK(read[1] == b);
    REQUIRE(rejected.size() == 1);
    CHECK(rejected[0].find("missing or invalid") != std::string::npos);
    su_home_deinit(home);
}

TEST_CASE("the client takes the highest-q server entry among the pairs it offered")
{
    const std::vector<IpsecParams> offered{{"hmac-sha-1-96", "aes-cbc", 1, 2, 3, 4, ""}, {"hmac-md5-96", "null", 1, 2, 3, 4, ""}};
    std::vector<IpsecParams> server{{"hmac-md5-96", "null", 9, 8, 7, 6, "0.1"},
                                    {"hmac-sha-1-96", "aes-cbc", 9, 8, 7, 6, "0.5"},
                                    {"hmac-sha-1-96", "null", 9, 8, 7, 6, "0.9"}}; // not offered
    const auto chosen = select_server(server, offered);
    REQUIRE(chosen);
    CHECK(chosen->alg == "hmac-sha-1-96");
    CHECK(chosen->ealg == "aes-cbc");
    server.erase(server.begin(), server.begin() + 2);
    CHECK_FALSE(select_server(server, offered));
}

TEST_CASE("the P-CSCF checks Security-Verify against the Security-Server it derived")
{
    const core::SecAgreeServer server({5062, 5063});
    const char* client = "ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=1111;spi-s=2222;port-c=5070;port-s=5071";
    Headers first("call-1@ue", client);
    const auto offer = server.offer(&first.sip);
    REQUIRE(offer);
    CHECK(offer->find("ipsec-3gpp;q=0.1;alg=hmac-sha-1-96;ealg=aes-cbc;spi-c=") == 0);
    CHECK(offer->find(";port-c=5062;port-s=5063") != std::string::npos);

    Headers echoed("call-1@ue", client, offer->c_str());
    CHECK(server.check(&echoed.sip) == core::SecAgreeServer::Check::ok);
    Headers missing("call-1@ue", client);
    CHECK(server.check(&missing.sip) == core::SecAgreeServer::Check::missing);
    std::string downgraded = *offer;
    downgraded.replace(downgraded.find("hmac-sha-1-96"), 13, "hmac-md5-96");
    Headers changed("call-1@ue", client, downgraded.c_str());
    CHECK(server.check(&changed.sip) == core::SecAgreeServer::Check::mismatch);
    Headers other_call("call-2@ue", client, offer->c_str());
    CHECK(server.check(&other_call.sip) == core::SecAgreeServer::Check::mismatch);
    Headers none("call-1@ue", nullptr);
    CHECK(server.check(&none.sip) == core::SecAgreeServer::Check::not_asked);
    Headers unknown("call-1@ue", "ipsec-3gpp;alg=hmac-sha-256;spi-c=1;spi-s=2;port-c=3;port-s=4");
    CHECK_FALSE(server.offer(&unknown.sip));
}

TEST_CASE("the UE's four SAs of TS 33.203 §7.1: outbound on the P-CSCF's SPIs, inbound on ours")
{
    const IpsecParams ue{"hmac-sha-1-96", "aes-cbc", 0x1111, 0x2222, 5070, 5071, ""};
    const IpsecParams pcscf{"hmac-sha-1-96", "aes-cbc", 0x3333, 0x4444, 5062, 5063, "0.1"};
    const auto keys = derive_esp_keys("hmac-sha-1-96", "aes-cbc", block(0x10), block(0x40));
    const std::string script = XfrmSas::install_script({"10.0.0.2", "10.0.0.1", "udp"}, ue, pcscf, keys);
    auto has = [&](const std::string& text) { return script.find(text) != std::string::npos; };
    CHECK(has("src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x00004444 mode transport"));
    CHECK(has("sel src 10.0.0.2 dst 10.0.0.1 proto udp sport 5070 dport 5063"));
    CHECK(has("src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x00003333"));
    CHECK(has("sel src 10.0.0.2 dst 10.0.0.1 proto udp sport 5071 dport 5062"));
    CHECK(has("src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x00002222"));
    CHECK(has("sel src 10.0.0.1 dst 10.0.0.2 proto udp sport 5062 dport 5071"));
    CHECK(has("src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x00001111"));
    CHECK(has("auth-trunc hmac(sha1) 0x404142434445464748494a4b4c4d4e4f00000000 96 enc cbc(aes) 0x1011"));
    CHECK(has("dport 5063 dir out tmpl"));
    CHECK(has("dport 5070 dir in tmpl"));
    const std::string remove = XfrmSas::remove_script({"10.0.0.2", "10.0.0.1", "udp"}, ue, pcscf);
    CHECK(remove.find("0x") == remove.find("0x0000")); // SPIs only: no keys on removal
    CHECK(std::count(remove.begin(), remove.end(), '\n') == 8);
}

TEST_CASE("protected port pairs")
{
    CHECK(parse_port_pair("5062:5063", "--x") == std::make_pair<std::uint16_t, std::uint16_t>(5062, 5063));
    CHECK_THROWS_AS(parse_port_pair("5062", "--x"), Failure);
    CHECK_THROWS_AS(parse_port_pair("5062:5062", "--x"), Failure);
    CHECK_THROWS_AS(parse_port_pair("0:1", "--x"), Failure);
    CHECK_THROWS_AS(parse_port_pair("1:70000", "--x"), Failure);
    CHECK_THROWS_AS(parse_port_pair(":1", "--x"), Failure);
}
