#include "cli/versions.hpp"

#include <libtorrent/version.hpp>
#include <opendht/utils.h>
#include <openssl/crypto.h>
#include <sofia-sip/su_config.h>
#include <sofia-sip/sofia_features.h>
#include <sqlite3.h>

#include <CLI/Version.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <spdlog/version.h>

namespace imsp2p::cli {

std::string toolkit_version()
{
    return IMSP2P_VERSION;
}

std::vector<std::pair<std::string, std::string>> library_versions()
{
    return {
        {"sofia-sip", SOFIA_SIP_VERSION},
        {"OpenDHT", dht::version()},
        {"libtorrent", lt::version()},
        {"OpenSSL", OpenSSL_version(OPENSSL_VERSION_STRING)},
        {"SQLite", sqlite3_libversion()},
        {"CLI11", CLI11_VERSION},
        {"fmt", fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100)},
        {"spdlog", fmt::format("{}.{}.{}", SPDLOG_VER_MAJOR, SPDLOG_VER_MINOR, SPDLOG_VER_PATCH)},
        {"nlohmann-json", fmt::format("{}.{}.{}", NLOHMANN_JSON_VERSION_MAJOR, NLOHMANN_JSON_VERSION_MINOR,
                                      NLOHMANN_JSON_VERSION_PATCH)},
    };
}

} // namespace imsp2p::cli
