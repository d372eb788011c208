// A WAV file as the RTP source (--wav): read whole through libsndfile, which
// decodes 16-bit PCM, mu-law and A-law to linear samples; the RTP sender
// encodes them to the negotiated G.711 law.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace imsp2p::call {

struct WavAudio {
    std::string path;
    std::string encoding;               // "16-bit PCM", "mu-law" or "A-law"
    std::vector<std::int16_t> samples;  // 8 kHz mono, linear
};

// Reads an 8 kHz mono WAV of 16-bit PCM, mu-law or A-law samples (at most an
// hour). Throws Failure(usage) naming the file and what is wrong with it.
std::shared_ptr<const WavAudio> read_wav(const std::string& path);

} // namespace imsp2p::call
