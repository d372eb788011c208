#include "util/hex.hpp"

#include <catch2/catch.hpp>

using namespace imsp2p;

TEST_CASE("hex round trip")
{
    const Bytes bytes{0x00, 0x7f, 0x80, 0xff};
    CHECK(to_hex(bytes) == "007f80ff");
    CHECK(from_hex("007F80ff") == bytes);
    CHECK(from_hex("")->empty());
    CHECK_FALSE(from_hex("abc"));
    CHECK_FALSE(from_hex("zz"));
}
