// --expect: check syntax, SIP message parsing and verdicts.
#include "verdict/expect.hpp"
#include "verdict/expect_option.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p::verdict;

namespace {

const std::string ok_200 = "SIP/2.0 200 OK\r\n"
                           "Via: SIP/2.0/UDP 127.0.0.2:5060;branch=z9hG4bK1\r\n"
                           "i: abc@host\r\n"
                           "CSeq: 2 REGISTER\r\n"
                           "Service-Route: <sip:orig@127.0.0.1:5060;lr>\r\n"
                           "P-Associated-URI: <sip:alice@ims.test>,\r\n"
                           " <tel:+15550100>\r\n"
                           "Expires: 600\r\n"
                           "Content-Length: 0\r\n\r\n";

std::string message_error(const std::string& text)
{
    try {
        parse_check(text);
    } catch (const std::invalid_argument& error) {
        return error.what();
    }
    return {};
}

} // namespace

TEST_CASE("expect: check syntax")
{
    CHECK(parse_check("status=200").status == 200);
    const auto klass = parse_check("status=2xx");
    CHECK(klass.status_class);
    CHECK(klass.status == 200);
    CHECK(parse_check("header:Service-Route").kind == Check::Kind::header_present);
    CHECK(parse_check("header:i").header == "Call-ID");
    CHECK(parse_check("header:expires~^600$").kind == Check::Kind::header_matches);
    CHECK(parse_check("header:expires~^600$").header == "Expires");
    CHECK(parse_check("time<250.5").limit_ms == 250.5);

    CHECK_THAT(message_error("status=20"), Catch::Contains("not a status code"));
    CHECK_THAT(message_error("status=099"), Catch::Contains("not a SIP status"));
    CHECK_THAT(message_error("status=7xx"), Catch::Contains("not a SIP status"));
    CHECK_THAT(message_error("header:"), Catch::Contains("not a header name"));
    CHECK_THAT(message_error("header:Bad Name"), Catch::Contains("not a header name"));
    CHECK_THAT(message_error("header:To~(unclosed"), Catch::Contains("bad regular expression"));
    CHECK_THAT(message_error("time<0"), Catch::Contains("not a positive number"));
    CHECK_THAT(message_error("time<fast"), Catch::Contains("not a positive number"));
    CHECK_THAT(message_error("latency<5"), Catch::Contains("unknown check"));
    CHECK_THAT(message_error("latency<5"), Catch::Contains("status=CODE"));
}

TEST_CASE("expect: message parsing unfolds headers and knows compact forms")
{
    const auto message = parse_sip_message(ok_200);
    CHECK(message.first_line == "SIP/2.0 200 OK");
    CHECK(message.status == 200);
    bool found = false;
    for (const auto& [name, value] : message.headers)
        if (name == "P-Associated-URI") {
            CHECK(value == "<sip:alice@ims.test>, <tel:+15550100>");
            found = true;
        }
    CHECK(found);
    CHECK(parse_sip_message("REGISTER sip:ims.test SIP/2.0\r\nCSeq: 1 REGISTER\r\n\r\n").status == 0);
}

TEST_CASE("expect: verdicts")
{
    const auto message = parse_sip_message(ok_200);
    CHECK(evaluate(parse_check("status=200"), &message, {}).pass);
    CHECK(evaluate(parse_check("status=2xx"), &message, {}).pass);
    const auto wrong = evaluate(parse_check("status=401"), &message, {});
    CHECK_FALSE(wrong.pass);
    CHECK(wrong.message == "SIP/2.0 200 OK");
    CHECK(wrong.reason == "status 200");
    CHECK(evaluate(parse_check("header:Call-ID"), &message, {}).pass);
    CHECK(evaluate(parse_check("header:service-route~orig@"), &message, {}).pass);
    CHECK_FALSE(evaluate(parse_check("header:Expires~^300$"), &message, {}).pass);
    CHECK_FALSE(evaluate(parse_check("header:Path"), &message, {}).pass);
    CHECK(evaluate(parse_check("time<100"), &message, 12.5).pass);
    CHECK_FALSE(evaluate(parse_check("time<10"), &message, 12.5).pass);
    CHECK_FALSE(evaluate(parse_check("time<10"), &message, std::nullopt).pass);
    const auto none = evaluate(parse_check("status=200"), nullptr, {});
    CHECK_FALSE(none.pass);
    CHECK(none.reason == "no message to check");
}

TEST_CASE("expect: the final response to the method, timed from the request's first transmission")
{
    using imsp2p::sip::TracedMessage;
    auto traced = [](bool sent, std::int64_t us, std::string data) {
        TracedMessage m;
        m.sent = sent;
        m.transport = "udp";
        m.time_us = us;
        m.data = std::move(data);
        return m;
    };
    std::vector<TracedMessage> trace{
        traced(true, 1000, "REGISTER sip:ims.test SIP/2.0\r\nCall-ID: a\r\nCSeq: 1 REGISTER\r\n\r\n"),
        traced(false, 3000, "SIP/2.0 401 Unauthorized\r\nCall-ID: a\r\nCSeq: 1 REGISTER\r\n\r\n"),
        traced(true, 4000, "REGISTER sip:ims.test SIP/2.0\r\nCall-ID: a\r\nCSeq: 2 REGISTER\r\n\r\n"),
        traced(true, 4500, "REGISTER sip:ims.test SIP/2.0\r\nCall-ID: a\r\nCSeq: 2 REGISTER\r\n\r\n"),
        traced(false, 9000, "SIP/2.0 200 OK\r\nCall-ID: a\r\nCSeq:  2   REGISTER\r\n\r\n"),
        traced(false, 9500, "SIP/2.0 200 OK\r\nCall-ID: b\r\nCSeq: 1 SUBSCRIBE\r\n\r\n"),
    };
    const auto checked = find_final_response(trace, "REGISTER");
    REQUIRE(checked);
    CHECK(checked->message.status == 200);
    REQUIRE(checked->response_ms);
    CHECK(*checked->response_ms == Approx(5.0));
    CHECK_FALSE(find_final_response(trace, "INVITE"));
}
