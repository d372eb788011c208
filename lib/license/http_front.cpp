#include "license/http_front.hpp"

#include "cli/outcome.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <atomic>
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

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
public:
    static constexpr bool tls = !std::is_same_v<Stream, beast::tcp_stream>;

    Session(Stream stream, const Shared& shared, std::string source)
        : stream_(std::move(stream)), shared_(shared), source_(std::move(source))
    {
    }

    void start()
    {
        if constexpr (tls) {
            beast::get_lowest_layer(stream_).expires_after(shared_.options.idle_timeout);
            stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](error_code ec) {
                if (ec)
                    return spdlog::debug("TLS handshake with {} failed: {}", self->source_, ec.message());
                self->read();
            });
        } else {
            read();
        }
    }

private:
    void read()
    {
        parser_.emplace();
        parser_->body_limit(shared_.options.max_body);
        beast::get_lowest_layer(stream_).expires_after(shared_.options.idle_timeout);
        http::async_read_header(stream_, buffer_, *parser_, [self = this->shared_from_this()](error_code ec, std::size_t) {
            self->on_header(ec);
        });
    }

    void on_header(error_code ec)
    {
        if (ec)
            return refuse_unreadable(ec);
        const auto& request = parser_->get();
        if (!beast::iequals(request[http::field::expect], "100-continue"))
            return read_body();
        // curl asks before sending a body over 1 KiB: say go on (an oversized
        // one was refused above, on its Content-Length, before any of it came).
        continue_ = {http::status::continue_, request.version()};
        http::async_write(stream_, continue_, [self = this->shared_from_this()](error_code ec, std::size_t) {
            if (!ec)
                self->read_body();
        });
    }

    void read_body()
    {
        http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](error_code ec, std::size_t) {
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
        auto& in = parser_->get();
        keep_alive_ = in.keep_alive();
        version_ = in.version();
        Request request{std::string(in.method_string()), std::string(in.target()), std::move(in.body()),
                        std::string(in[http::field::authorization]), std::string(in["Request-Id"]), source_};
        // The reply may come from any thread: post it to this connection's strand.
        auto answered = std::make_shared<std::atomic<bool>>(false);
        auto done = [self = this->shared_from_this(), answered](Reply reply) {
            if (answered->exchange(true))
                return;
            net::post(self->stream_.get_executor(),
                      [self, reply = std::move(reply)]() mutable { self->write(std::move(reply)); });
        };
        const std::string method = request.method, target = request.target;
        try {
            shared_.handle(std::move(request), done);
        } catch (const std::exception& error) {
            // A database failure, say: refuse this request, keep serving.
            spdlog::error("{} {}: {}", method, target, error.what());
            done(error_reply(500, "internal_error", "the request could not be served"));
        }
    }

    void write(Reply reply)
    {
        response_ = {};
        response_.version(version_);
        response_.result(static_cast<unsigned>(reply.status));
        for (const auto& [name, value] : reply.headers)
            response_.insert(name, value);
        response_.set(http::field::content_type, "application/json");
        response_.body() = std::move(reply.body);
        response_.keep_alive(keep_alive_);
        response_.prepare_payload();
        beast::get_lowest_layer(stream_).expires_after(shared_.options.idle_timeout);
        http::async_write(stream_, response_, [self = this->shared_from_this()](error_code ec, std::size_t) {
            if (ec)
                return;
            if (self->keep_alive_)
                self->read();
            else
                self->close();
        });
    }

    void close()
    {
        if constexpr (tls) {
            beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(1));
            stream_.async_shutdown([self = this->shared_from_this()](error_code) {});
        } else {
            error_code ignored;
            stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
        }
    }

    Stream stream_;
    const Shared& shared_;
    std::string source_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::response<http::empty_body> continue_;
    http::response<http::string_body> response_;
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
        acceptor.async_accept(net::make_strand(io), [this](error_code ec, tcp::socket socket) {
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

    void start(tcp::socket socket)
    {
        error_code ec;
        // Nagle with the client's delayed ACK would hold small answers ~40 ms.
        socket.set_option(tcp::no_delay(true), ec);
        const auto peer = socket.remote_endpoint(ec);
        std::string source = ec ? std::string() : peer.address().to_string();
        if (tls)
            std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
                beast::ssl_stream<beast::tcp_stream>(std::move(socket), *tls), shared, std::move(source))
                ->start();
        else
            std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)), shared, std::move(source))->start();
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
