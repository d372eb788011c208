// The length-prefixed, big-endian encoding shared by the overlay's records
// (signed_record.hpp: bindings under the overlay key; content_record.hpp:
// content records under a publisher's signature).
#pragma once

#include "util/hex.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

namespace imsp2p::dht {

void put_be(Bytes& out, std::uint64_t value, int bytes);
void put_field(Bytes& out, const void* data, std::size_t size, int length_bytes); // its length, then the bytes

// Reads the encoding front to back; any overrun or field over its limit
// leaves ok false (and later reads return zero or empty).
struct FieldReader {
    std::span<const std::uint8_t> data;
    std::size_t at = 0;
    bool ok = true;

    std::uint64_t number(int bytes);
    std::span<const std::uint8_t> field(int length_bytes, std::size_t limit);
};

} // namespace imsp2p::dht
