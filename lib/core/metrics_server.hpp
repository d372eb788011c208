// `p2p-node --metrics ADDR:PORT`: serves GET /metrics in the Prometheus text
// format from a thread of its own (cpp-httplib), so a slow scraper never
// holds up the SIP loop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace imsp2p::core {

class MetricsServer {
public:
    // Failure(local) when ADDR:PORT cannot be bound.
    MetricsServer(const std::string& host, unsigned port, std::function<std::string()> render);
    ~MetricsServer(); // stops and joins
    MetricsServer(const MetricsServer&) = delete;
    MetricsServer& operator=(const MetricsServer&) = delete;

private:
    std::unique_ptr<httplib::Server> server_;
    std::thread thread_;
};

} // namespace imsp2p::core
