// Beast's HTTP/1.1 request parser, keeping only what the licence service
// reads (method, target, body, Authorization, Request-Id, Expect) in a
// Request owned by the connection. Its strings keep their capacity from one
// request to the next, so a keep-alive connection parses without a heap
// allocation per request, where http::request_parser builds a field list.
// Beast still does all the HTTP work: framing, Content-Length, chunked
// bodies, limits, keep-alive.
#pragma once

#include "license/license_service.hpp"

#include <boost/beast/http/basic_parser.hpp>

namespace imsp2p::license {

class RequestReader : public boost::beast::http::basic_parser<true> {
public:
    // Clears `into` (keeping its capacity) for the request about to be read.
    explicit RequestReader(Request& into);

    bool expects_continue() const { return expects_continue_; }
    unsigned http_version() const { return version_; }

private:
    using error_code = boost::beast::error_code;
    using string_view = boost::beast::string_view;
    void on_request_impl(boost::beast::http::verb, string_view method, string_view target, int version,
                         error_code&) override;
    void on_response_impl(int, string_view, int, error_code&) override {}
    void on_field_impl(boost::beast::http::field name, string_view, string_view value, error_code&) override;
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&) override;
    std::size_t on_body_impl(string_view body, error_code&) override;
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code&) override;
    void on_finish_impl(error_code&) override {}

    Request& into_;
    bool expects_continue_ = false;
    bool seen_authorization_ = false, seen_expect_ = false, seen_request_id_ = false;
    unsigned version_ = 11;
};

} // namespace imsp2p::license
