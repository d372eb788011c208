#include "fuzz_support.hpp"

#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace imsp2p::fuzz {

void quiet()
{
    spdlog::set_level(spdlog::level::off);
}

InputFile::InputFile(const std::string& name) : path_(dir_.path() / name) {}

const std::filesystem::path& InputFile::write(std::string_view content)
{
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    return path_;
}

std::string Fields::next_line()
{
    const auto end = input_.find('\n');
    std::string line(input_.substr(0, end));
    input_ = end == std::string_view::npos ? std::string_view() : input_.substr(end + 1);
    if (!line.empty() && line.back() == '\r')
        line.pop_back();
    return line;
}

UdpSocket::UdpSocket(const char* address)
{
    fd_ = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    inet_pton(AF_INET, address, &local.sin_addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        std::perror(address);
        std::abort();
    }
    socklen_t length = sizeof local;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    port_ = ntohs(local.sin_port);
}

UdpSocket::~UdpSocket()
{
    close(fd_);
}

void UdpSocket::send(const std::string& datagram, const sockaddr_in& to) const
{
    sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
}

void UdpSocket::send(const std::string& datagram, const char* address, unsigned port) const
{
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port));
    inet_pton(AF_INET, address, &to.sin_addr);
    send(datagram, to);
}

std::string UdpSocket::receive(sockaddr_in& from) const
{
    char buffer[65536];
    socklen_t length = sizeof from;
    const ssize_t size = recvfrom(fd_, buffer, sizeof buffer, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &length);
    return size > 0 ? std::string(buffer, static_cast<std::size_t>(size)) : std::string();
}

void UdpSocket::drain() const
{
    sockaddr_in from{};
    while (!receive(from).empty()) {
    }
}

} // namespace imsp2p::fuzz
