#include "call/g711.hpp"

#include <cmath>
#include <numbers>

namespace imsp2p::call {

// The classic segment encoders (as in the ITU-T reference, Sun's g711.c).
std::uint8_t linear_to_ulaw(std::int16_t sample)
{
    constexpr int bias = 0x84, clip = 32635;
    int value = sample;
    const int sign = value < 0 ? 0x80 : 0;
    if (value < 0)
        value = -value;
    if (value > clip)
        value = clip;
    value += bias;
    int exponent = 7;
    for (int mask = 0x4000; exponent > 0 && !(value & mask); mask >>= 1)
        --exponent;
    const int mantissa = (value >> (exponent + 3)) & 0x0f;
    return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

std::uint8_t linear_to_alaw(std::int16_t sample)
{
    int value = sample >> 3; // 13-bit magnitude
    int mask = 0xd5;         // sign bit set, even bits inverted
    if (value < 0) {
        mask = 0x55;
        value = -value - 1;
    }
    static constexpr int segment_end[8] = {0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff};
    int segment = 0;
    while (segment < 8 && value > segment_end[segment])
        ++segment;
    if (segment >= 8)
        return static_cast<std::uint8_t>(0x7f ^ mask);
    int code = segment << 4;
    code |= segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f;
    return static_cast<std::uint8_t>(code ^ mask);
}

std::vector<std::int16_t> tone(unsigned frequency_hz, std::uint64_t start, unsigned count)
{
    std::vector<std::int16_t> samples(count);
    for (unsigned i = 0; i < count; ++i) {
        const double t = static_cast<double>(start + i) / 8000.0;
        samples[i] = static_cast<std::int16_t>(8000.0 * std::sin(2 * std::numbers::pi * frequency_hz * t));
    }
    return samples;
}

} // namespace imsp2p::call
