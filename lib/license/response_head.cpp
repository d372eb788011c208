#include "license/response_head.hpp"

#include <boost/beast/http/status.hpp>
#include <fmt/format.h>

#include <iterator>

namespace imsp2p::license {

void append_response_head(std::string& out, const Reply& reply, unsigned version, bool keep_alive)
{
    namespace http = boost::beast::http;
    const auto reason = http::obsolete_reason(http::int_to_status(static_cast<unsigned>(reply.status)));
    auto to = std::back_inserter(out);
    fmt::format_to(to, "HTTP/1.{} {} {}\r\n", version == 10 ? 0 : 1, reply.status,
                   std::string_view(reason.data(), reason.size()));
    for (const auto& [name, value] : reply.headers)
        fmt::format_to(to, "{}: {}\r\n", name, value);
    // HTTP/1.1 stays open unless told; HTTP/1.0 closes unless told.
    if (version == 10 && keep_alive)
        out += "Connection: keep-alive\r\n";
    else if (version != 10 && !keep_alive)
        out += "Connection: close\r\n";
    fmt::format_to(to, "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n", reply.body.size());
}

} // namespace imsp2p::license
