#include "dht/record_codec.hpp"

namespace imsp2p::dht {

void put_be(Bytes& out, std::uint64_t value, int bytes)
{
    for (int i = bytes - 1; i >= 0; --i)
        out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

void put_field(Bytes& out, const void* data, std::size_t size, int length_bytes)
{
    put_be(out, size, length_bytes);
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    out.insert(out.end(), bytes, bytes + size);
}

std::uint64_t FieldReader::number(int bytes)
{
    if (!ok || data.size() - at < static_cast<std::size_t>(bytes))
        return ok = false, 0;
    std::uint64_t value = 0;
    for (int i = 0; i < bytes; ++i)
        value = (value << 8) | data[at++];
    return value;
}

std::span<const std::uint8_t> FieldReader::field(int length_bytes, std::size_t limit)
{
    const auto size = number(length_bytes);
    if (!ok || size > limit || data.size() - at < size)
        return ok = false, std::span<const std::uint8_t>{};
    const auto out = data.subspan(at, size);
    at += size;
    return out;
}

} // namespace imsp2p::dht
