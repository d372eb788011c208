// What the fuzz targets share: the input as text, a quiet log, a file
// holding the input for the readers that take a path, and a fuzz input cut
// into the fields a harness needs (line by line, the rest as a body).
#pragma once

#include "test_support.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include <netinet/in.h>

namespace imsp2p::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size)
{
    return std::string(reinterpret_cast<const char*>(data), size);
}

// Turns logging off once (the library logs refusals at info and debug level).
void quiet();

// A file holding the current input, rewritten for each one.
class InputFile {
public:
    explicit InputFile(const std::string& name);
    const std::filesystem::path& write(std::string_view content);
    const std::filesystem::path& path() const { return path_; }

private:
    test::TempDir dir_;
    std::filesystem::path path_;
};

// Takes lines off the front of an input: next_line() up to '\n' (without
// it, and without a final '\r'), rest() everything not taken yet. The input
// must outlive the Fields.
class Fields {
public:
    explicit Fields(std::string_view input) : input_(input) {}
    std::string next_line();
    std::string rest() const { return std::string(input_); }

private:
    std::string_view input_;
};

// A UDP socket on a loopback address (any port) standing for a peer of a
// SIP target; aborts when it cannot bind.
class UdpSocket {
public:
    explicit UdpSocket(const char* address);
    ~UdpSocket();
    UdpSocket(const UdpSocket&) = delete;
    UdpSocket& operator=(const UdpSocket&) = delete;
    unsigned port() const { return port_; }

    void send(const std::string& datagram, const sockaddr_in& to) const;
    void send(const std::string& datagram, const char* address, unsigned port) const;
    // The next datagram without waiting (empty when none), and who sent it.
    std::string receive(sockaddr_in& from) const;
    void drain() const; // drops whatever has arrived

private:
    int fd_ = -1;
    unsigned port_ = 0;
};

} // namespace imsp2p::fuzz
