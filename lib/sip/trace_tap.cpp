#include "sip/trace_tap.hpp"

#include "sip/stack.hpp"
#include "sip/trace_writer.hpp"

#include <sofia-sip/msg_addr.h>
#include <sofia-sip/su.h>
#include <sofia-sip/tport.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

namespace imsp2p::sip {
namespace {

std::pair<std::string, unsigned> endpoint_of(const sockaddr_storage& address)
{
    char text[INET6_ADDRSTRLEN] = "";
    if (address.ss_family == AF_INET6) {
        const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
        inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
        return {text, ntohs(in6.sin6_port)};
    }
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
    return {text, ntohs(in.sin_port)};
}

// The ends of a connected stream socket; false for anything else.
bool stream_ends(int fd, std::pair<std::string, unsigned>& local, std::pair<std::string, unsigned>& remote)
{
    int type = 0;
    socklen_t size = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 || type != SOCK_STREAM)
        return false;
    sockaddr_storage peer{}, self{};
    socklen_t peer_size = sizeof peer, self_size = sizeof self;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_size) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&self), &self_size) != 0)
        return false;
    local = endpoint_of(self);
    remote = endpoint_of(peer);
    return true;
}

std::int64_t now_us()
{
    using namespace std::chrono;
    return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

} // namespace

TraceTap::TraceTap()
{
    TraceWriter::instance().open();
}

bool tcp_local_end(const std::string& ip, unsigned port, std::string& local_ip, unsigned& local_port)
{
    // sofia keeps a connection's socket to itself: find it among ours by its peer.
    DIR* fds = opendir("/proc/self/fd");
    if (!fds)
        return false;
    const std::pair<std::string, unsigned> wanted{ip, port};
    std::pair<std::string, unsigned> local, remote;
    bool found = false;
    while (const dirent* entry = readdir(fds)) {
        char* end = nullptr;
        const long fd = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || end == entry->d_name)
            continue;
        if (stream_ends(static_cast<int>(fd), local, remote) && remote == wanted) {
            local_ip = local.first;
            local_port = local.second;
            found = true;
            break;
        }
    }
    closedir(fds);
    return found;
}

} // namespace imsp2p::sip

// sofia-sip's hook (see trace_tap.hpp): `n` bytes of `iov` were sent to or
// received from msg_addr(msg); `what` is "sent" or "recv".
extern "C" void tport_dump_iovec(tport_t const* self, msg_t* msg, size_t n, su_iovec_t const iov[], size_t iovused,
                                 char const* what, char const* /*how*/)
{
    using namespace imsp2p::sip;
    auto& writer = TraceWriter::instance();
    if (!self || !msg || !writer.active())
        return;
    TracedMessage message;
    message.time_us = now_us();
    message.sent = what && std::strcmp(what, "sent") == 0;
    const tp_name_t* name = tport_name(self);
    message.transport = name && name->tpn_proto ? name->tpn_proto : "udp";
    if (const su_sockaddr_t* address = msg_addr(msg)) {
        sockaddr_storage remote{};
        std::memcpy(&remote, address, address->su_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
        auto [ip, port] = endpoint_of(remote);
        message.remote_ip = ip;
        message.remote_port = port;
    }
    for (size_t i = 0; i < iovused && message.data.size() < n; ++i)
        message.data.append(static_cast<const char*>(iov[i].mv_base),
                            std::min<size_t>(iov[i].mv_len, n - message.data.size()));
    // A datagram's local end is where the transport is bound (its name); a
    // connection's name is its peer's, so its socket tells (port 0 if gone).
    if (message.transport == "udp") {
        if (name && name->tpn_host) {
            message.local_ip = name->tpn_host;
            if (message.local_ip.size() > 2 && message.local_ip.front() == '[') // an IPv6 reference
                message.local_ip = message.local_ip.substr(1, message.local_ip.size() - 2);
        }
        if (name && name->tpn_port)
            message.local_port = static_cast<unsigned>(std::strtoul(name->tpn_port, nullptr, 10));
    } else if (!tcp_local_end(message.remote_ip, message.remote_port, message.local_ip, message.local_port)) {
        message.local_ip = source_address_towards(message.remote_ip);
    }
    writer.record(message);
}
