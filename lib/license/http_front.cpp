#include "license/http_front.hpp"

#include "cli/outcome.hpp"
#include "license/request_reader.hpp"
#include "license/response_head.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace imsp2p::license {
namespace {

namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

struct Shared {
    FrontOptions options;
    HttpFront::Handler handle;
};

// Sockets and timers bound to their connection's strand by type: no
// type-erased executor copied on every operation.
using Strand = net::strand<net::io_context::executor_type>;
using Socket = net::basic_stream_socket<tcp, Strand>;
using Clock = std::chrono::steady_clock;
using Timer = net::basic_waitable_timer<Clock, net::wait_traits<Clock>, Strand>;

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
public:
    static constexpr bool tls = !std::is_same_v<Stream, Socket>;

    Session(Stream stream, const Shared& shared, std::string source)
        : stream_(std::move(stream)), shared_(shared), idle_(socket().get_executor())
    {
        request_.source = std::move(source);
    }

    void start()
    {
        busy();
        watch();
        if constexpr (tls) {
            stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
                if (ec)
                    return spdlog::debug("TLS handshake with {} failed: {}", self->request_.source, ec.message());
                self->read();
            });
        } else {
            read();
        }
    }

private:
    Socket& socket() { return beast::get_lowest_layer(stream_); }

    // The idle timeout without a timer reset per request: reads and writes
    // only move deadline_ on, and the one timer of the connection, when it
    // fires, either closes the socket (the deadline passed) or waits again.
    // A connection waiting for its licence's charge has no deadline.
    void busy() { deadline_ = Clock::now() + shared_.options.idle_timeout; }
    void park() { deadline_ = Clock::time_point::max(); }
    void watch()
    {
        idle_.expires_at(deadline_ == Clock::time_point::max() ? Clock::now() + shared_.options.idle_timeout : deadline_);
        idle_.async_wait([self = this->shared_from_this()](error_code ec) {
            if (ec || self->closed_)
                return; // cancelled (or about to be): the connection is closing
            if (Clock::now() < self->deadline_)
                return self->watch();
            error_code ignored;
            self->socket().close(ignored); // the pending read or write fails, which ends the connection
        });
    }

    void read()
    {
        reader_.emplace(request_);
        reader_->body_limit(shared_.options.max_body);
        busy();
        http::async_read_header(stream_, buffer_, *reader_, [self = this->shared_from_this()](error_code ec, std::size_t) {
            self->on_header(ec);
        });
    }

    void on_header(error_code ec)
    {
        if (ec)
            return refuse_unreadable(ec);
        if (!reader_->expects_continue())
            return read_body();
        // curl asks before sending a body over 1 KiB: say go on (an oversized
        // one was refused above, on its Content-Length, before any of it came).
        net::async_write(stream_, net::buffer(continue_head.data(), continue_head.size()),
                         [self = this->shared_from_this()](error_code ec, std::size_t) {
                             if (!ec)
                                 self->read_body();
                         });
    }

    void read_body()
    {
        // The body mostly came in with the header: parse it from the buffer
        // here rather than through another asynchronous read.
        if (!reader_->is_done() && buffer_.size() > 0) {
            error_code ec;
            buffer_.consume(reader_->put(buffer_.data(), ec));
            if (ec && ec != http::error::need_more)
                return refuse_unreadable(ec);
        }
        if (reader_->is_done())
            return dispatch();
        http::async_read(stream_, buffer_, *reader_, [self = this->shared_from_this()](error_code ec, std::size_t) {
            if (ec)
                return self->refuse_unreadable(ec);
            self->dispatch();
        });
    }

    // A read that failed: a closed or silent connection ends quietly, a
    // request that cannot be read gets our JSON error, then the connection
    // closes (what follows in the stream cannot be trusted).
    void refuse_unreadable(error_code ec)
    {
        if (ec == http::error::end_of_stream || ec.category() != make_error_code(http::error::body_limit).category())
            return close();
        keep_alive_ = false;
        version_ = 11;
        if (ec == http::error::body_limit)
            return write(error_reply(413, "body_too_large", fmt::format("the body exceeds {} bytes", shared_.options.max_body)));
        write(error_reply(400, "bad_request", "the request cannot be read"));
    }

    void dispatch()
    {
        keep_alive_ = reader_->keep_alive();
        version_ = reader_->http_version();
        park();
        answered_ = false;
        // The reply may come from any thread: post it to this connection's
        // strand. request_ stays as it is until then (no read is pending).
        auto done = [self = this->shared_from_this()](Reply reply) {
            if (self->answered_.exchange(true))
                return;
            net::post(self->socket().get_executor(),
                      [self, reply = std::move(reply)]() mutable { self->write(std::move(reply)); });
        };
        try {
            shared_.handle(request_, done);
        } catch (const std::exception& error) {
            // A database failure, say: refuse this request, keep serving.
            spdlog::error("{} {}: {}", request_.method, request_.target, error.what());
            done(error_reply(500, "internal_error", "the request could not be served"));
        }
    }

    // One write of two buffers: the head formatted into a reused string, the body.
    void write(Reply reply)
    {
        head_.clear();
        append_response_head(head_, reply, version_, keep_alive_);
        body_ = std::move(reply.body);
        busy();
        const std::array<net::const_buffer, 2> buffers{net::buffer(head_), net::buffer(body_)};
        net::async_write(stream_, buffers, [self = this->shared_from_this()](error_code ec, std::size_t) {
            if (ec)
                return self->close();
            if (self->keep_alive_)
                self->read();
            else
                self->close();
        });
    }

    void close()
    {
        if constexpr (tls) {
            deadline_ = Clock::now() + std::chrono::seconds(1); // the watch closes a peer that does not answer
            stream_.async_shutdown([self = this->shared_from_this()](error_code) {
                self->closed_ = true;
                self->idle_.cancel();
            });
        } else {
            closed_ = true;
            idle_.cancel();
            error_code ignored;
            socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    Stream stream_;
    const Shared& shared_;
    Timer idle_;
    Clock::time_point deadline_;
    beast::flat_buffer buffer_;
    Request request_; // reused: its strings keep their capacity
    std::optional<RequestReader> reader_;
    std::string head_, body_;
    std::atomic<bool> answered_{false};
    bool closed_ = false; // the idle timer's work is over
    bool keep_alive_ = true;
    unsigned version_ = 11;
};

ssl::context tls_context(const FrontOptions& o)
{
    ssl::context context(ssl::context::tls_server);
    context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                        ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    error_code ec;
    context.use_certificate_chain_file(o.cert, ec);
    if (!ec)
        context.use_private_key_file(o.key, ssl::context::pem, ec);
    if (ec || SSL_CTX_check_private_key(context.native_handle()) != 1)
        throw Failure(Outcome::usage, fmt::format("cannot use --cert {} with --key {}: not a matching PEM certificate "
                                                  "and private key",
                                                  o.cert, o.key));
    return context;
}

} // namespace

struct HttpFront::Impl {
    Shared shared;
    std::optional<ssl::context> tls;
    // Declared after what sessions use: destroyed first, with the sessions its handlers hold.
    net::io_context io;
    tcp::acceptor acceptor{io};

    void accept()
    {
        acceptor.async_accept(net::make_strand(io), [this](error_code ec, Socket socket) {
            if (ec) {
                if (ec == net::error::operation_aborted)
                    return;
                // Out of descriptors, say: the connection is lost, the server goes on.
                spdlog::warn("accepting a connection failed: {}", ec.message());
            } else {
                start(std::move(socket));
            }
            accept();
        });
    }

    void start(Socket socket)
    {
        error_code ec;
        // Nagle with the client's delayed ACK would hold small answers ~40 ms.
        socket.set_option(tcp::no_delay(true), ec);
        const auto peer = socket.remote_endpoint(ec);
        std::string source = ec ? std::string() : peer.address().to_string();
        if (tls)
            std::make_shared<Session<beast::ssl_stream<Socket>>>(beast::ssl_stream<Socket>(std::move(socket), *tls), shared,
                                                                 std::move(source))
                ->start();
        else
            std::make_shared<Session<Socket>>(std::move(socket), shared, std::move(source))->start();
    }
};

HttpFront::HttpFront(const FrontOptions& options, Handler handle) : impl_(std::make_unique<Impl>())
{
    impl_->shared = {options, std::move(handle)};
    if (!options.cert.empty())
        impl_->tls.emplace(tls_context(options));
    error_code ec;
    const auto address = net::ip::make_address(options.host, ec);
    const tcp::endpoint where(address, static_cast<unsigned short>(options.port));
    auto& acceptor = impl_->acceptor;
    if (!ec)
        acceptor.open(where.protocol(), ec);
    if (!ec)
        acceptor.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor.bind(where, ec);
    // A deep queue: a load client opening 100 connections at once has none dropped.
    if (!ec)
        acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec)
        throw Failure(Outcome::local, fmt::format("cannot listen on {}:{}: {}", options.host, options.port, ec.message()));
    impl_->accept();
}

HttpFront::~HttpFront() = default;

unsigned HttpFront::port() const
{
    error_code ec;
    return impl_->acceptor.local_endpoint(ec).port();
}

void HttpFront::run()
{
    std::vector<std::thread> others;
    for (unsigned i = 1; i < impl_->shared.options.threads; ++i)
        others.emplace_back([this] { impl_->io.run(); });
    impl_->io.run();
    for (auto& thread : others)
        thread.join();
}

void HttpFront::stop()
{
    impl_->io.stop();
}

} // namespace imsp2p::license
