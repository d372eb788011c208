// The licence server's HTTP/1.1 front (HTTPS with a certificate): Boost.Beast
// on a few Boost.Asio threads, each serving any number of keep-alive
// connections. A request is handed to the handler with a callback; the
// connection stays parked, holding no thread, until the callback brings the
// reply, from any thread (a licence's reply comes from the CDR writer after
// the group commit), and is then answered on its own strand.
// Thread-per-connection (cpp-httplib) spent its time switching between 144
// threads each waiting on its batch's fsync; this serves the same load on
// as many threads as there are CPUs.
#pragma once

#include "license/license_service.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace imsp2p::license {

struct FrontOptions {
    std::string host;          // a numeric IPv4 or IPv6 address
    unsigned port = 0;
    std::string cert, key;     // PEM files: HTTPS; empty: plain HTTP
    unsigned threads = 1;      // io threads
    std::size_t max_body = 16384; // larger bodies: 413, and the connection is closed
    std::chrono::seconds idle_timeout{5}; // a connection silent this long (or this slow to send a request) is closed
};

class HttpFront {
public:
    // `handle` must call its callback exactly once, or throw (500). The
    // request is valid during the call only.
    using Handler = std::function<void(const Request&, LicenseService::Done)>;

    // Binds and listens at once: Failure(usage) for an unusable certificate
    // or key, Failure(local) when the address cannot be bound.
    HttpFront(const FrontOptions& options, Handler handle);
    ~HttpFront();
    HttpFront(const HttpFront&) = delete;
    HttpFront& operator=(const HttpFront&) = delete;

    unsigned port() const; // the bound port (useful with port 0)
    // Serves until stop(), on `threads` threads (this one among them).
    void run();
    // Stops serving, from any thread: pending requests are dropped unanswered.
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace imsp2p::license
