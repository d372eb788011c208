// UDP sockets for many OpenDHT nodes in one process (simulation mode), served
// by one epoll thread. OpenDHT 2.4's own socket runs a select() thread per
// node: three descriptors each, so a process aborts ("bit out of range 0 -
// FD_SETSIZE") near 340 nodes, and a thousand nodes would be a thousand
// receive threads. A hub socket is handed to DhtRunner through its Context.
#pragma once

#include <opendht/network_utils.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>

namespace imsp2p::dht {

class SocketHub : public std::enable_shared_from_this<SocketHub> {
public:
    // Failure(local) when epoll or the wake-up descriptor cannot be created.
    static std::shared_ptr<SocketHub> create();
    ~SocketHub();
    SocketHub(const SocketHub&) = delete;
    SocketHub& operator=(const SocketHub&) = delete;

    // A non-blocking IPv4 UDP socket bound to `bind`, received on the hub's
    // thread. Failure(local) when it cannot be bound.
    std::unique_ptr<::dht::net::DatagramSocket> open(const ::dht::SockAddr& bind);

    std::size_t sockets() const;

private:
    class Socket;
    SocketHub();
    void add(Socket* socket);
    void remove(Socket* socket); // after it returns, the socket gets no packet
    void run();

    int epoll_ = -1;
    int wake_ = -1; // eventfd: ends epoll_wait when the hub stops
    std::atomic<bool> stopping_{false};
    mutable std::mutex mutex_; // held while packets are handed over, and by remove()
    std::unordered_set<Socket*> live_;
    std::thread thread_;
};

} // namespace imsp2p::dht
