#include "license/request_reader.hpp"

#include <boost/beast/core/string.hpp>

namespace imsp2p::license {

namespace http = boost::beast::http;

RequestReader::RequestReader(Request& into) : into_(into)
{
    into_.method.clear();
    into_.target.clear();
    into_.body.clear();
    into_.authorization.clear();
    into_.request_id.clear();
}

void RequestReader::on_request_impl(http::verb, string_view method, string_view target, int version, error_code&)
{
    into_.method.assign(method.data(), method.size());
    into_.target.assign(target.data(), target.size());
    version_ = static_cast<unsigned>(version);
}

void RequestReader::on_field_impl(http::field name, string_view name_text, string_view value, error_code&)
{
    // A repeated field keeps its first value, as message::operator[] reads it.
    if (name == http::field::authorization) {
        if (!seen_authorization_)
            into_.authorization.assign(value.data(), value.size());
        seen_authorization_ = true;
    } else if (name == http::field::expect) {
        if (!seen_expect_)
            expects_continue_ = boost::beast::iequals(value, "100-continue");
        seen_expect_ = true;
    } else if (name == http::field::unknown && boost::beast::iequals(name_text, "Request-Id")) {
        if (!seen_request_id_)
            into_.request_id.assign(value.data(), value.size());
        seen_request_id_ = true;
    }
}

void RequestReader::on_body_init_impl(const boost::optional<std::uint64_t>& length, error_code&)
{
    if (length)
        into_.body.reserve(static_cast<std::size_t>(*length)); // bounded by body_limit, checked before
}

std::size_t RequestReader::on_body_impl(string_view body, error_code&)
{
    into_.body.append(body.data(), body.size());
    return body.size();
}

std::size_t RequestReader::on_chunk_body_impl(std::uint64_t, string_view body, error_code&)
{
    into_.body.append(body.data(), body.size());
    return body.size();
}

} // namespace imsp2p::license
