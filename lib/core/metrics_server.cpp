#include "core/metrics_server.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <cerrno>
#include <cstring>

namespace imsp2p::core {

MetricsServer::MetricsServer(const std::string& host, unsigned port, std::function<std::string()> render)
    : server_(std::make_unique<httplib::Server>())
{
    server_->Get("/metrics", [render = std::move(render)](const httplib::Request&, httplib::Response& response) {
        response.set_content(render(), "text/plain; version=0.0.4; charset=utf-8");
    });
    server_->set_keep_alive_max_count(10);
    if (!server_->bind_to_port(host, static_cast<int>(port)))
        throw Failure(Outcome::local, fmt::format("cannot serve metrics on {}:{}: {}", host, port,
                                                  errno ? std::strerror(errno) : "bind failed"));
    thread_ = std::thread([this] { server_->listen_after_bind(); });
}

MetricsServer::~MetricsServer()
{
    server_->stop();
    if (thread_.joinable())
        thread_.join();
}

} // namespace imsp2p::core
