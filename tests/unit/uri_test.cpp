#include "cli/outcome.hpp"
#include "sip/instance_id.hpp"
#include "sip/uri.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p;

TEST_CASE("SIP URIs are parsed")
{
    auto uri = sip::parse_sip_uri("<sip:alice@IMS.test:5070;transport=TCP>", "--impu", true);
    CHECK(uri.user == "alice");
    CHECK(uri.host == "IMS.test");
    CHECK(uri.port == 5070);
    CHECK(uri.transport == "tcp");
    CHECK(sip::canonical_aor(uri) == "sip:alice@ims.test");
    CHECK(sip::parse_sip_uri("sip:[::1]:5060", "--proxy").host == "::1");
    CHECK(sip::parse_sip_uri("sips:ims.test", "--registrar").scheme == "sips");
}

TEST_CASE("malformed SIP URIs are usage errors that name the option")
{
    for (const char* bad : {"", "alice@ims.test", "http://ims.test", "sip:", "sip:alice@ims.test:99999", "sip:a b@c",
                            "tel:+123"}) {
        INFO(bad);
        try {
            sip::parse_sip_uri(bad, "--impu", true);
            FAIL("accepted");
        } catch (const Failure& failure) {
            CHECK(failure.outcome() == Outcome::usage);
            CHECK(std::string(failure.what()).find("--impu") != std::string::npos);
        }
    }
    CHECK_THROWS_AS(sip::parse_sip_uri("sip:ims.test", "--impu", true), Failure);
}

TEST_CASE("instance ids are stable UUID URNs")
{
    const auto id = sip::instance_id_for("alice@ims.test");
    CHECK(id == sip::instance_id_for("alice@ims.test"));
    CHECK(id != sip::instance_id_for("bob@ims.test"));
    REQUIRE(id.size() == 45);
    CHECK(id.starts_with("urn:uuid:"));
    CHECK(id[23] == '5');
}
