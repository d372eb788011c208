#include "cli/outcome.hpp"
#include "subscriber/subscriber.hpp"

#include <catch2/catch.hpp>

#include <sstream>

using namespace imsp2p;
using namespace imsp2p::subscriber;

namespace {

std::vector<Subscriber> parse(const std::string& text)
{
    std::istringstream input(text);
    return parse_subscribers(input, "subs.csv");
}

std::string error_of(const std::string& text)
{
    try {
        parse(text);
    } catch (const Failure& failure) {
        CHECK(failure.outcome() == Outcome::usage);
        return failure.what();
    }
    return "no error";
}

const std::string header = "impi,impus,auth,password,k,op,opc,amf,sqn\n";

} // namespace

TEST_CASE("subscriber rows are read")
{
    auto rows = parse("# testbed users\n" + header +
                      "alice@ims.test,sip:alice@ims.test;tel:+3312345,md5,secret,,,,,\n"
                      "\n"
                      "bob@ims.test,sip:bob@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,,cd63cb71954a9f4e48a5994e37a02baf,b9b9,ff9bb4d0b607\r\n"
                      "\"carol@ims.test\",\"sip:carol@ims.test\",md5,\"pa,ss\"\"word\",,,,,\n");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0].impus == std::vector<std::string>{"sip:alice@ims.test", "tel:+3312345"});
    CHECK(rows[0].password == "secret");
    CHECK(rows[0].line == 3);
    CHECK(rows[1].auth == AuthScheme::aka);
    CHECK(to_hex(rows[1].k) == "465b5ce8b199b49faa5f0a2ee238a6bc");
    CHECK(rows[1].op.empty());
    CHECK(to_hex(rows[1].amf) == "b9b9");
    CHECK(to_hex(rows[1].sqn) == "ff9bb4d0b607");
    CHECK(rows[2].password == "pa,ss\"word");
    CHECK(find_subscriber(rows, "bob@ims.test") == &rows[1]);
    CHECK(find_subscriber(rows, "dave@ims.test") == nullptr);
}

TEST_CASE("a header with fewer columns is enough for md5 users")
{
    auto rows = parse("impi,impus,auth,password\nalice@ims.test,sip:alice@ims.test,md5,pw\n");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].password == "pw");
}

TEST_CASE("malformed subscriber files name line and column")
{
    CHECK(error_of("") == "subs.csv: no header line (impi,impus,auth,...)");
    CHECK(error_of("impi,impus,colour\n").starts_with("subs.csv:1:12: unknown column 'colour'"));
    CHECK(error_of("impi,impus\n") == "subs.csv:1:1: header lacks the 'auth' column");
    CHECK(error_of(header + "alice@ims.test,sip:alice@ims.test,md5,pw,,,,\n").starts_with("subs.csv:2:"));
    CHECK(error_of(header + "alice@ims.test,sip:alice@ims.test,sha1,pw,,,,,\n") ==
          "subs.csv:2:35: auth must be md5 or aka, not 'sha1'");
    CHECK(error_of(header + "alice@ims.test,alice@ims.test,md5,pw,,,,,\n") ==
          "subs.csv:2:16: invalid public identity 'alice@ims.test' (expected sip:, sips: or tel: URI)");
    CHECK(error_of(header + "bob@ims.test,sip:bob@ims.test,aka,,465b5ce8,,cd63cb71954a9f4e48a5994e37a02baf,,\n") ==
          "subs.csv:2:36: k must be 32 hex digits");
    CHECK(error_of(header + "bob@ims.test,sip:bob@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,,,,\n") ==
          "subs.csv:2:1: aka subscriber needs exactly one of op and opc");
    CHECK(error_of(header + "alice@ims.test,sip:alice@ims.test,md5,,,,,,\n") ==
          "subs.csv:2:39: md5 subscriber without a password");
    CHECK(error_of(header + "a@ims.test,sip:a@ims.test,md5,x,,,,,\na@ims.test,sip:a@ims.test,md5,y,,,,,\n") ==
          "subs.csv:3:1: private identity 'a@ims.test' already defined on line 2");
    CHECK(error_of(header + "\"alice,sip:a@ims.test,md5,x,,,,,\n") == "subs.csv:2:1: unterminated quoted field");
}
