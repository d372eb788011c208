// The ipsec-3gpp mechanism of sec-agree (RFC 3329, TS 33.203 §7.2): one
// Security-Client, -Server or -Verify entry, written and read back through
// sofia-sip's parser, and the choice of one entry from a peer's list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct sip_security_agree_s;

namespace imsp2p::secagree {

struct IpsecParams {
    std::string alg;          // integrity: hmac-sha-1-96 or hmac-md5-96
    std::string ealg = "null"; // encryption: null or aes-cbc
    std::uint32_t spi_c = 0;  // SPI of the sender's client SA (inbound to it)
    std::uint32_t spi_s = 0;  // SPI of the sender's server SA
    std::uint16_t port_c = 0; // the sender's protected client port
    std::uint16_t port_s = 0; // the sender's protected server port
    std::string q;            // preference as written (Security-Server); empty: none

    bool operator==(const IpsecParams&) const = default;
};

// The integrity and encryption algorithms this toolkit derives keys for.
bool known_alg(const std::string& alg);
bool known_ealg(const std::string& ealg);

// One header entry: "ipsec-3gpp;q=0.1;alg=...;ealg=...;spi-c=...;..."
std::string entry_text(const IpsecParams& params);
// Entries joined into a header value.
std::string header_value(const std::vector<IpsecParams>& list);

// The ipsec-3gpp entries of a parsed Security-* header, in order; entries
// of other mechanisms are skipped, and so are malformed ones, each with the
// reason appended to `rejected`.
std::vector<IpsecParams> read_ipsec(const sip_security_agree_s* list, std::vector<std::string>* rejected = nullptr);

// The server entry a client takes (TS 33.203 §7.2): the highest q among
// those whose alg and ealg the client offered.
std::optional<IpsecParams> select_server(const std::vector<IpsecParams>& server, const std::vector<IpsecParams>& offered);

// PORT_C:PORT_S as given to `option`: two different ports 1-65535, or Failure(usage).
std::pair<std::uint16_t, std::uint16_t> parse_port_pair(const std::string& text, const char* option);

// An SPI for a new SA: random, above the 0-255 range IANA reserves.
std::uint32_t random_spi();

} // namespace imsp2p::secagree
