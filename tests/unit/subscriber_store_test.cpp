// The HSS store: import from the CSV, lookups, and the SEQ counter that must
// never go back, across reopening the database file included.
#include "aka/aka.hpp"
#include "cli/outcome.hpp"
#include "hss/subscriber_store.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

using namespace imsp2p;
using imsp2p::hss::SubscriberStore;

namespace {

std::string aka_row(const std::string& impi, const std::string& sqn)
{
    return fmt::format("{},sip:{},aka,,{},{},,8000,{}\n", impi, impi, test::test_k, test::test_op, sqn);
}

} // namespace

TEST_CASE("the store imports md5 and aka rows and finds them by IMPI and by IMPU")
{
    test::TempDir dir;
    SubscriberStore store(dir.path() / "hss.sqlite");
    store.import(test::rows("alice@ims.test,sip:alice@ims.test;tel:+15550100,md5,alice-secret,,,,,\n" +
                            aka_row("bob@ims.test", "000000000140")));

    const auto alice = store.find("alice@ims.test");
    REQUIRE(alice);
    CHECK(alice->auth == subscriber::AuthScheme::md5);
    CHECK(alice->password == "alice-secret");
    CHECK(alice->impus == std::vector<std::string>{"sip:alice@ims.test", "tel:+15550100"});

    const auto bob = store.find("bob@ims.test");
    REQUIRE(bob);
    CHECK(bob->auth == subscriber::AuthScheme::aka);
    const auto k = aka::to_block(*from_hex(test::test_k), "k");
    CHECK(bob->k == k);
    CHECK(bob->opc == aka::Milenage::opc_from_op(k, aka::to_block(*from_hex(test::test_op), "op")));
    CHECK(bob->amf == aka::Amf{0x80, 0x00});
    CHECK(bob->seq == 0x140 >> aka::ind_bits);

    // IMPUs are found by their canonical form: the host is not case-sensitive.
    CHECK(hss::impu_key("sip:alice@IMS.Test;transport=tcp") == "sip:alice@ims.test");
    CHECK(store.find_by_impu(hss::impu_key("sip:alice@IMS.test"))->impi == "alice@ims.test");
    CHECK(store.find_by_impu("tel:+15550100")->impi == "alice@ims.test");
    CHECK_FALSE(store.find_by_impu("sip:carol@ims.test"));
    CHECK_FALSE(store.find("carol@ims.test"));
}

TEST_CASE("the database file is readable by its owner only")
{
    test::TempDir dir;
    SubscriberStore store(dir.path() / "hss.sqlite");
    struct stat info {};
    REQUIRE(stat((dir.path() / "hss.sqlite").c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
}

TEST_CASE("take_next_sqn increments SEQ, puts this node's IND below it, and survives reopening")
{
    test::TempDir dir;
    const auto path = dir.path() / "hss.sqlite";
    {
        SubscriberStore store(path);
        store.import(test::rows(aka_row("bob@ims.test", "000000000040"))); // SEQ 2
        CHECK(store.take_next_sqn("bob@ims.test", 5) == aka::make_sqn(3, 5));
        CHECK(store.take_next_sqn("bob@ims.test", 5) == aka::make_sqn(4, 5));
    }
    SubscriberStore reopened(path);
    CHECK(reopened.find("bob@ims.test")->seq == 4);
    CHECK(reopened.take_next_sqn("bob@ims.test", 0) == aka::make_sqn(5, 0));
    CHECK_THROWS_AS(reopened.take_next_sqn("nobody@ims.test", 0), Failure);
}

TEST_CASE("importing the CSV again never lowers SEQ")
{
    test::TempDir dir;
    SubscriberStore store(dir.path() / "hss.sqlite");
    store.import(test::rows(aka_row("bob@ims.test", "000000000040"))); // SEQ 2
    for (int i = 0; i < 10; ++i)
        store.take_next_sqn("bob@ims.test", 0);
    store.import(test::rows(aka_row("bob@ims.test", "000000000000")));
    CHECK(store.find("bob@ims.test")->seq == 12);
    store.import(test::rows(aka_row("bob@ims.test", "000000001000"))); // SEQ 128: higher wins
    CHECK(store.find("bob@ims.test")->seq == 128);
}

TEST_CASE("resync moves SEQ forward only")
{
    test::TempDir dir;
    SubscriberStore store(dir.path() / "hss.sqlite");
    store.import(test::rows(aka_row("bob@ims.test", "000000000040")));
    store.resync("bob@ims.test", 1000);
    CHECK(store.find("bob@ims.test")->seq == 1000);
    store.resync("bob@ims.test", 10);
    CHECK(store.find("bob@ims.test")->seq == 1000);
    CHECK(store.take_next_sqn("bob@ims.test", 1) == aka::make_sqn(1001, 1));
}

TEST_CASE("rows no longer in the CSV are not found, and keep their SEQ for when they come back")
{
    test::TempDir dir;
    SubscriberStore store(dir.path() / "hss.sqlite");
    store.import(test::rows(aka_row("bob@ims.test", "000000000000") + "alice@ims.test,sip:alice@ims.test,md5,pw,,,,,\n"));
    store.take_next_sqn("bob@ims.test", 0);
    store.take_next_sqn("bob@ims.test", 0);
    store.import(test::rows("alice@ims.test,sip:alice@ims.test,md5,new-pw,,,,,\n"));
    CHECK_FALSE(store.find("bob@ims.test"));
    CHECK_FALSE(store.find_by_impu("sip:bob@ims.test"));
    CHECK(store.find("alice@ims.test")->password == "new-pw");
    store.import(test::rows(aka_row("bob@ims.test", "000000000000")));
    CHECK(store.find("bob@ims.test")->seq == 2);
}

TEST_CASE("two rows claiming one IMPU are refused, naming both lines, and nothing is imported")
{
    test::TempDir dir;
    SubscriberStore store(dir.path() / "hss.sqlite");
    try {
        store.import(test::rows("alice@ims.test,sip:alice@ims.test,md5,a,,,,,\n"
                                "eve@ims.test,sip:eve@ims.test;sip:alice@IMS.TEST,md5,e,,,,,\n"));
        FAIL("no error");
    } catch (const Failure& failure) {
        CHECK(failure.outcome() == Outcome::usage);
        CHECK(std::string(failure.what()) ==
              "subscriber eve@ims.test (line 3): public identity sip:alice@IMS.TEST already belongs to alice@ims.test (line 2)");
    }
    CHECK_FALSE(store.find("alice@ims.test"));
}
