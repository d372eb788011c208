// Milenage against every test set of 3GPP TS 35.208, read from the shared
// conformance vectors (no numbers are copied here).
#include "aka/milenage.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>

using namespace imsp2p;
using namespace imsp2p::aka;

namespace {

std::vector<std::map<std::string, std::string>> read_sets()
{
    const std::string path = std::string(IMSP2P_VECTORS_DIR) + "/milenage-ts35208.tsv";
    std::ifstream file(path);
    INFO("vectors: " << path);
    REQUIRE(file);
    std::vector<std::string> columns;
    std::vector<std::map<std::string, std::string>> sets;
    std::string line;
    while (std::getline(file, line)) {
        if (line.empty() || line[0] == '#')
            continue;
        std::istringstream fields(line);
        std::vector<std::string> values;
        for (std::string value; std::getline(fields, value, '\t');)
            values.push_back(value);
        if (columns.empty()) {
            columns = values;
            continue;
        }
        REQUIRE(values.size() == columns.size());
        std::map<std::string, std::string> set;
        for (size_t i = 0; i < values.size(); ++i)
            set[columns[i]] = values[i];
        sets.push_back(set);
    }
    return sets;
}

template <size_t N>
std::string hex(const std::array<std::uint8_t, N>& bytes)
{
    return to_hex(bytes.data(), N);
}

} // namespace

TEST_CASE("Milenage matches every TS 35.208 test set")
{
    const auto sets = read_sets();
    REQUIRE(sets.size() >= 5);
    for (const auto& v : sets) {
        INFO("test set " << v.at("set"));
        const Block k = to_block(*from_hex(v.at("K")), "K");
        const Block op = to_block(*from_hex(v.at("OP")), "OP");
        const Block opc = Milenage::opc_from_op(k, op);
        CHECK(hex(opc) == v.at("OPc"));

        const Milenage milenage(k, opc);
        const auto out = milenage.compute(to_block(*from_hex(v.at("RAND")), "RAND"), to_sqn(*from_hex(v.at("SQN")), "SQN"),
                                          to_amf(*from_hex(v.at("AMF")), "AMF"));
        CHECK(hex(out.mac_a) == v.at("f1"));
        CHECK(hex(out.mac_s) == v.at("f1star"));
        CHECK(hex(out.res) == v.at("f2"));
        CHECK(hex(out.ck) == v.at("f3"));
        CHECK(hex(out.ik) == v.at("f4"));
        CHECK(hex(out.ak) == v.at("f5"));
        CHECK(hex(out.ak_star) == v.at("f5star"));
    }
}

TEST_CASE("Milenage key material of the wrong size is a usage error")
{
    CHECK_THROWS_WITH(to_block(Bytes(15, 0), "k"), "k must be 16 bytes (32 hex digits), not 15");
    CHECK_THROWS_WITH(to_sqn(Bytes(7, 0), "sqn"), "sqn must be 6 bytes (12 hex digits), not 7");
}
