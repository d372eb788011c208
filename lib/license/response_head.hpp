// The status line and header of a reply, written by hand into the
// connection's reused buffer: with the body as a second buffer, a reply is
// one sendmsg and no allocation, where a Beast response message allocates a
// node per field and a serializer per reply. Reason phrases come from Beast.
// Header values are the service's own (challenges, Retry-After, ...), never
// copied from a request.
#pragma once

#include "license/license_service.hpp"

#include <string>

namespace imsp2p::license {

// Appends to `out` the head of `reply` (its JSON body follows, Content-Length
// bytes): `version` 10 or 11; `keep_alive` false adds Connection: close.
void append_response_head(std::string& out, const Reply& reply, unsigned version, bool keep_alive);

// "HTTP/1.1 100 Continue", for a client that waits before sending its body.
inline constexpr std::string_view continue_head = "HTTP/1.1 100 Continue\r\n\r\n";

} // namespace imsp2p::license
