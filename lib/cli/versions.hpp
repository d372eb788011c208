// Versions of the toolkit and of the libraries it is built on (-V, -VV).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace imsp2p::cli {

std::string toolkit_version();

// (library, version) pairs: sofia-sip, OpenDHT, libtorrent, OpenSSL, SQLite, ...
std::vector<std::pair<std::string, std::string>> library_versions();

} // namespace imsp2p::cli
