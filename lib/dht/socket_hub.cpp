#include "dht/socket_hub.hpp"

#include "cli/outcome.hpp"
#include "dht/loopback_alias.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace imsp2p::dht {
namespace {

constexpr int max_events = 256;
constexpr int packets_per_turn = 32;  // then the next socket: one busy node cannot starve the rest
constexpr std::size_t max_datagram = 64 * 1024;

} // namespace

class SocketHub::Socket : public ::dht::net::DatagramSocket {
public:
    Socket(std::shared_ptr<SocketHub> hub, int fd, const ::dht::SockAddr& bound)
        : hub_(std::move(hub)), fd_(fd), bound_(bound), alias_(bound.getIPv4().sin_addr.s_addr == htonl(INADDR_ANY) ||
                                                          loopback_alias(ntohl(bound.getIPv4().sin_addr.s_addr)))
    {
    }
    ~Socket() override { stop(); }

    int sendTo(const ::dht::SockAddr& dest, const uint8_t* data, size_t size, bool replied) override
    {
        if (!dest)
            return EFAULT;
        if (dest.getFamily() != AF_INET)
            return EAFNOSUPPORT;
        const int flags = MSG_NOSIGNAL | (replied ? MSG_CONFIRM : 0);
        if (alias_) { // loopback_alias.hpp: OpenDHT sees aliases, the wire loopback
            const auto target = unalias(dest);
            if (has_node_list({data, size})) {
                std::vector<std::uint8_t> copy(data, data + size);
                unalias_node_lists(copy);
                return ::sendto(fd_, copy.data(), size, flags, target.get(), target.getLength()) < 0 ? errno : 0;
            }
            return ::sendto(fd_, data, size, flags, target.get(), target.getLength()) < 0 ? errno : 0;
        }
        if (::sendto(fd_, data, size, flags, dest.get(), dest.getLength()) < 0)
            return errno;
        return 0;
    }

    bool hasIPv4() const override { return true; }
    bool hasIPv6() const override { return false; }
    const ::dht::SockAddr& getBoundRef(sa_family_t family) const override
    {
        return family == AF_INET6 ? none_ : bound_;
    }

    void stop() override
    {
        if (stopped_.exchange(true))
            return;
        hub_->remove(this);
        ::close(fd_);
    }

    int fd() const { return fd_; }

    // On the hub's thread, with the hub's mutex held.
    void receive(std::vector<std::uint8_t>& buffer)
    {
        ::dht::net::PacketList packets;
        for (int i = 0; i < packets_per_turn; ++i) {
            sockaddr_storage from{};
            socklen_t from_size = sizeof from;
            const ssize_t size = ::recvfrom(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT,
                                            reinterpret_cast<sockaddr*>(&from), &from_size);
            if (size < 0)
                break; // EAGAIN, or an ICMP error reported on this socket: nothing to hand on
            auto packet = getNewPacket();
            auto& received = packet.front();
            received.data.assign(buffer.begin(), buffer.begin() + size);
            if (alias_)
                alias_node_lists(received.data);
            received.from = ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&from), from_size);
            received.received = ::dht::clock::now();
            packets.splice(packets.end(), std::move(packet));
        }
        if (!packets.empty())
            onReceived(std::move(packets));
    }

private:
    std::shared_ptr<SocketHub> hub_;
    int fd_;
    ::dht::SockAddr bound_;
    ::dht::SockAddr none_;
    bool alias_; // bound to 127.0/15 or any address: node lists carry loopback aliases (loopback_alias.hpp)
    std::atomic<bool> stopped_{false};
};

std::shared_ptr<SocketHub> SocketHub::create()
{
    std::shared_ptr<SocketHub> hub(new SocketHub());
    hub->thread_ = std::thread([raw = hub.get()] { raw->run(); });
    return hub;
}

SocketHub::SocketHub()
{
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_ < 0 || wake_ < 0) {
        const int error = errno;
        if (epoll_ >= 0)
            ::close(epoll_);
        if (wake_ >= 0)
            ::close(wake_);
        throw Failure(Outcome::local, fmt::format("socket hub: {}", std::strerror(error)));
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = nullptr; // the wake-up descriptor
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &event);
}

SocketHub::~SocketHub()
{
    stopping_ = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto written = ::write(wake_, &one, sizeof one);
    if (thread_.joinable())
        thread_.join();
    ::close(wake_);
    ::close(epoll_);
}

std::unique_ptr<::dht::net::DatagramSocket> SocketHub::open(const ::dht::SockAddr& bind)
{
    if (bind.getFamily() != AF_INET)
        throw Failure(Outcome::usage, "socket hub: IPv4 addresses only");
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw Failure(Outcome::local, fmt::format("socket hub: cannot open a UDP socket: {}", std::strerror(errno)));
    // Bursts of a registration storm arrive faster than one thread drains
    // them: the kernel's default 208 KiB receive buffer overflowed under the
    // core-register benchmark (UdpRcvbufErrors), and every lost datagram
    // costs a request timeout. Beyond rmem_max only with CAP_NET_ADMIN.
    const int buffer = 4 << 20;
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer) != 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    if (::bind(fd, bind.get(), bind.getLength()) < 0) {
        const int error = errno;
        ::close(fd);
        throw Failure(Outcome::local, fmt::format("cannot bind {}: {}", bind.toString(), std::strerror(error)));
    }
    sockaddr_storage bound{};
    socklen_t bound_size = sizeof bound;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &bound_size);
    auto socket = std::make_unique<Socket>(shared_from_this(), fd,
                                           ::dht::SockAddr(reinterpret_cast<const sockaddr*>(&bound), bound_size));
    add(socket.get());
    return socket;
}

std::size_t SocketHub::sockets() const
{
    std::lock_guard lock(mutex_);
    return live_.size();
}

void SocketHub::add(Socket* socket)
{
    std::lock_guard lock(mutex_);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = socket;
    if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, socket->fd(), &event) < 0)
        throw Failure(Outcome::local, fmt::format("socket hub: epoll: {}", std::strerror(errno)));
    live_.insert(socket);
}

void SocketHub::remove(Socket* socket)
{
    std::lock_guard lock(mutex_);
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, socket->fd(), nullptr);
    live_.erase(socket);
}

void SocketHub::run()
{
    std::vector<std::uint8_t> buffer(max_datagram);
    epoll_event events[max_events];
    while (!stopping_) {
        const int count = ::epoll_wait(epoll_, events, max_events, 1000);
        if (count < 0) {
            if (errno == EINTR)
                continue;
            spdlog::error("socket hub: epoll_wait: {}", std::strerror(errno));
            return;
        }
        // A socket may have been removed since epoll_wait returned: only
        // those still live get their packets (the mutex keeps them so).
        std::lock_guard lock(mutex_);
        for (int i = 0; i < count; ++i) {
            auto* socket = static_cast<Socket*>(events[i].data.ptr);
            if (socket && live_.count(socket))
                socket->receive(buffer);
        }
    }
}

} // namespace imsp2p::dht
