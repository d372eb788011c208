# Every dependency comes from a Debian package (scripts/setup installs them).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(CLI11 CONFIG REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(LibXml2 REQUIRED)
find_package(OpenSSL REQUIRED)
pkg_check_modules(SOFIA REQUIRED IMPORTED_TARGET sofia-sip-ua)
pkg_check_modules(PCAP REQUIRED IMPORTED_TARGET libpcap)
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
pkg_check_modules(SNDFILE REQUIRED IMPORTED_TARGET sndfile)
# Boost.Beast and Boost.Asio (header-only): the licence server's HTTP front.
find_package(Boost 1.74 CONFIG REQUIRED)

# OpenDHT's CMake config refers to targets it never creates: make them first.
# msgpack-c (C) and msgpack-cxx (C++) both install a msgpack-config.cmake; OpenDHT needs the C++ one.
find_package(msgpack CONFIG REQUIRED NAMES msgpack PATHS /usr/lib/${CMAKE_LIBRARY_ARCHITECTURE}/cmake/msgpackc-cxx NO_DEFAULT_PATH)
pkg_check_modules(Jsoncpp REQUIRED IMPORTED_TARGET jsoncpp)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl)
find_package(opendht CONFIG REQUIRED)

find_package(LibtorrentRasterbar CONFIG REQUIRED)
