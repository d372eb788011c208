// Subscriber data (the HSS role): the CSV contract of DESIGN.md §4,
//   impi,impus,auth,password,k,op,opc,amf,sqn
// one row per private identity; impus `;`-separated; auth md5 or aka; hex for
// K/OP/OPc/AMF/SQN. The same file provisions the UE tools and the servers.
#pragma once

#include "util/hex.hpp"

#include <filesystem>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace imsp2p::subscriber {

enum class AuthScheme { md5, aka };

struct Subscriber {
    std::string impi;               // private identity, e.g. alice@ims.test
    std::vector<std::string> impus; // public identities, the first is the default
    AuthScheme auth = AuthScheme::md5;
    std::string password;           // md5 rows
    Bytes k, op, opc;               // aka rows: 16 bytes each; op or opc may be empty
    Bytes amf;                      // 2 bytes
    Bytes sqn;                      // 6 bytes
    int line = 0;                   // where the row was read, for diagnostics
};

// Parses a subscriber CSV. Throws Failure(usage) naming source:line:column on
// any malformed row. Blank lines and lines starting with '#' are skipped.
std::vector<Subscriber> parse_subscribers(std::istream& input, const std::string& source);

// Reads a subscriber CSV file (Failure(usage) when it cannot be read).
std::vector<Subscriber> read_subscribers(const std::filesystem::path& path);

// The row of `impi`, or nullptr.
const Subscriber* find_subscriber(const std::vector<Subscriber>& subscribers, const std::string& impi);

} // namespace imsp2p::subscriber
