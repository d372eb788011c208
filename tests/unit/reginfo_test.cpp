#include "sip/reginfo.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p::sip;

TEST_CASE("reginfo round trip")
{
    Reginfo info;
    info.version = 3;
    info.registrations.push_back({"sip:alice@ims.test", "r1", "active",
                                  {{"c1", "sip:alice@127.0.0.2:5060", "active", "registered", 600},
                                   {"c2", "sip:alice@127.0.0.3:5070;transport=tcp", "terminated", "deactivated", 0}}});
    std::string error;
    const auto parsed = parse_reginfo(write_reginfo(info), error);
    REQUIRE(parsed);
    CHECK(parsed->version == 3);
    CHECK(parsed->state == "full");
    REQUIRE(parsed->registrations.size() == 1);
    const auto& r = parsed->registrations[0];
    CHECK(r.aor == "sip:alice@ims.test");
    REQUIRE(r.contacts.size() == 2);
    CHECK(r.contacts[0].uri == "sip:alice@127.0.0.2:5060");
    CHECK(r.contacts[0].expires == 600);
    CHECK(r.contacts[1].uri == "sip:alice@127.0.0.3:5070;transport=tcp");
    CHECK(r.contacts[1].event == "deactivated");
}

TEST_CASE("reginfo from RFC 3680 style input, with a namespace prefix and whitespace")
{
    const std::string xml = R"(<?xml version="1.0"?>
<r:reginfo xmlns:r="urn:ietf:params:xml:ns:reginfo" version="0" state="full">
  <r:registration aor="sip:user@example.com" id="as9" state="active">
    <r:contact id="76" state="active" event="registered" duration-registered="7322">
      <r:uri> sip:user@pc887.example.com </r:uri>
    </r:contact>
  </r:registration>
</r:reginfo>)";
    std::string error;
    const auto parsed = parse_reginfo(xml, error);
    REQUIRE(parsed);
    REQUIRE(parsed->registrations.size() == 1);
    CHECK(parsed->registrations[0].contacts[0].uri == "sip:user@pc887.example.com");
}

TEST_CASE("malformed reginfo is refused without crashing")
{
    std::string error;
    CHECK_FALSE(parse_reginfo("", error));
    CHECK_FALSE(parse_reginfo("<reginfo", error));
    CHECK(error == "not well-formed XML");
    CHECK_FALSE(parse_reginfo("<other/>", error));
    CHECK(error == "the root element is not <reginfo>");
    // An external entity is never fetched or expanded.
    const auto parsed = parse_reginfo(R"(<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<reginfo version="1" state="full"><registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active" event="registered"><uri>&x;</uri></contact></registration></reginfo>)",
                                      error);
    if (parsed) {
        REQUIRE(parsed->registrations.size() == 1);
        CHECK(parsed->registrations[0].contacts[0].uri.find("root:") == std::string::npos);
    }
}
