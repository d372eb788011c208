// Helpers shared by the unit tests of the core node: a temporary directory
// and subscriber rows from CSV text.
#pragma once

#include "subscriber/subscriber.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace imsp2p::test {

// A fresh directory, removed with everything in it at scope end.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Rows of "impi,impus,auth,password,k,op,opc,amf,sqn" CSV text (header added).
std::vector<subscriber::Subscriber> rows(const std::string& csv_rows);

// TS 35.208 test set 1, the AKA subscriber of the tests.
inline const char* const test_k = "465b5ce8b199b49faa5f0a2ee238a6bc";
inline const char* const test_op = "cdc202d5123e20f62b6d676ac72cb318";

} // namespace imsp2p::test
