#include "core/control_socket.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace imsp2p::core {
namespace {

constexpr std::size_t max_datagram = 64 * 1024;

sockaddr_un unix_address(const std::filesystem::path& path)
{
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    const std::string text = path.string();
    if (text.size() >= sizeof address.sun_path)
        throw Failure(Outcome::usage, fmt::format("control socket path too long ({} bytes): {}", text.size(), text));
    std::memcpy(address.sun_path, text.c_str(), text.size() + 1);
    return address;
}

int control_ready(sip::SipStack*, su_wait_t*, su_wakeup_arg_t* socket)
{
    static_cast<ControlSocket*>(socket)->receive();
    return 0;
}

} // namespace

ControlSocket::ControlSocket(sip::SipStack& stack, std::filesystem::path path, Handler handler)
    : stack_(stack), path_(std::move(path)), handler_(std::move(handler))
{
    const sockaddr_un address = unix_address(path_);
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw Failure(Outcome::local, fmt::format("control socket: {}", std::strerror(errno)));
    unlink(path_.c_str()); // a socket file left by a node that was killed
    const mode_t old_mask = umask(0077);
    const int bound = bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    const int error = errno;
    umask(old_mask);
    su_wait_t wait = SU_WAIT_INIT;
    if (bound != 0 || su_wait_create(&wait, fd_, SU_WAIT_IN) != 0 ||
        (index_ = su_root_register(stack.root(), &wait, &control_ready, this, 0)) < 0) {
        close(fd_);
        throw Failure(Outcome::local,
                      fmt::format("cannot open the control socket {}: {}", path_.string(), bound != 0 ? std::strerror(error) : "event loop"));
    }
}

ControlSocket::~ControlSocket()
{
    su_root_deregister(stack_.root(), index_);
    close(fd_);
    unlink(path_.c_str());
}

void ControlSocket::receive()
{
    std::string buffer(max_datagram, '\0');
    sockaddr_un peer{};
    socklen_t peer_length = sizeof peer;
    const ssize_t got = recvfrom(fd_, buffer.data(), buffer.size(), 0, reinterpret_cast<sockaddr*>(&peer), &peer_length);
    if (got < 0)
        return;
    buffer.resize(static_cast<std::size_t>(got));
    auto reply = [fd = fd_, peer, peer_length](const nlohmann::json& answer) {
        const std::string text = answer.dump();
        if (peer_length > sizeof(sa_family_t))
            sendto(fd, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&peer), peer_length);
    };
    nlohmann::json request;
    try {
        request = nlohmann::json::parse(buffer);
    } catch (const std::exception& error) {
        spdlog::warn("control socket: unreadable request ({} bytes): {}", buffer.size(), error.what());
        reply({{"ok", false}, {"error", "the request is not JSON"}});
        return;
    }
    try {
        handler_(request, reply);
    } catch (const std::exception& error) {
        reply({{"ok", false}, {"error", error.what()}});
    }
}

nlohmann::json control_request(const std::filesystem::path& path, const nlohmann::json& request, double timeout_s)
{
    const sockaddr_un node = unix_address(path);
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        throw Failure(Outcome::local, fmt::format("socket: {}", std::strerror(errno)));
    // An abstract address (leading NUL) for the answer: nothing to clean up.
    sockaddr_un self{};
    self.sun_family = AF_UNIX;
    const std::string name = fmt::format("imsp2p-control-{}-{}", getpid(), static_cast<const void*>(&self));
    std::memcpy(self.sun_path + 1, name.data(), name.size());
    const auto self_length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    const std::string text = request.dump();
    if (bind(fd, reinterpret_cast<const sockaddr*>(&self), self_length) != 0 ||
        sendto(fd, text.data(), text.size(), 0, reinterpret_cast<const sockaddr*>(&node), sizeof node) < 0) {
        const int error = errno;
        close(fd);
        if (error == ENOENT || error == ECONNREFUSED)
            throw Failure(Outcome::no_answer, fmt::format("no p2p-node is running with control socket {}", path.string()));
        throw Failure(Outcome::local, fmt::format("cannot reach the control socket {}: {}", path.string(), std::strerror(error)));
    }
    pollfd wait{fd, POLLIN, 0};
    const int ready = poll(&wait, 1, static_cast<int>(timeout_s * 1000));
    std::string answer(max_datagram, '\0');
    const ssize_t got = ready > 0 ? recv(fd, answer.data(), answer.size(), 0) : -1;
    close(fd);
    if (got < 0)
        throw Failure(Outcome::no_answer, fmt::format("the p2p-node at {} did not answer within {} s", path.string(), timeout_s));
    answer.resize(static_cast<std::size_t>(got));
    try {
        return nlohmann::json::parse(answer);
    } catch (const std::exception&) {
        throw Failure(Outcome::local, "the p2p-node answered something that is not JSON");
    }
}

} // namespace imsp2p::core
