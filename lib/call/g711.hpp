// G.711 (ITU-T G.711) μ-law and A-law encoding of 16-bit linear samples,
// and the test tone ims-call sends.
#pragma once

#include <cstdint>
#include <vector>

namespace imsp2p::call {

std::uint8_t linear_to_ulaw(std::int16_t sample);
std::uint8_t linear_to_alaw(std::int16_t sample);

// `count` samples of a sine tone at 8 kHz, continuing from sample index `start`.
std::vector<std::int16_t> tone(unsigned frequency_hz, std::uint64_t start, unsigned count);

} // namespace imsp2p::call
