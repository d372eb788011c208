#include "test_support.hpp"

#include <cstdlib>
#include <sstream>

namespace imsp2p::test {

TempDir::TempDir()
{
    std::string pattern = (std::filesystem::temp_directory_path() / "imsp2p-unit.XXXXXX").string();
    if (!mkdtemp(pattern.data()))
        throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir()
{
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::vector<subscriber::Subscriber> rows(const std::string& csv_rows)
{
    std::istringstream input("impi,impus,auth,password,k,op,opc,amf,sqn\n" + csv_rows);
    return subscriber::parse_subscribers(input, "test.csv");
}

} // namespace imsp2p::test
