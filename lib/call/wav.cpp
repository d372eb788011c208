#include "call/wav.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <sndfile.h>

#include <filesystem>

namespace imsp2p::call {
namespace {

constexpr sf_count_t max_frames = 8000 * 3600;

// libsndfile's name of a major format or an encoding (e.g. "Unsigned 8 bit PCM").
std::string format_name(int format)
{
    SF_FORMAT_INFO info{};
    info.format = format;
    if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &info, sizeof info) != 0 || !info.name)
        return fmt::format("format 0x{:x}", format);
    return info.name;
}

const char* encoding_of(int subtype)
{
    switch (subtype) {
    case SF_FORMAT_PCM_16: return "16-bit PCM";
    case SF_FORMAT_ULAW: return "mu-law";
    case SF_FORMAT_ALAW: return "A-law";
    default: return nullptr;
    }
}

} // namespace

std::shared_ptr<const WavAudio> read_wav(const std::string& path)
{
    auto bad = [&path](const std::string& why) { return Failure(Outcome::usage, fmt::format("--wav {}: {}", path, why)); };
    std::error_code error;
    if (!std::filesystem::exists(path, error))
        throw bad("no such file");
    if (std::filesystem::is_directory(path, error))
        throw bad("a directory, not a WAV file");
    SF_INFO info{};
    SNDFILE* file = sf_open(path.c_str(), SFM_READ, &info);
    if (!file)
        throw bad(fmt::format("not a readable audio file ({})", sf_strerror(nullptr)));
    std::unique_ptr<SNDFILE, int (*)(SNDFILE*)> closer(file, sf_close);
    const int major = info.format & SF_FORMAT_TYPEMASK;
    const int subtype = info.format & SF_FORMAT_SUBMASK;
    if (major != SF_FORMAT_WAV && major != SF_FORMAT_WAVEX)
        throw bad(fmt::format("a {} file, not WAV", format_name(major)));
    const char* encoding = encoding_of(subtype);
    if (!encoding)
        throw bad(fmt::format("{} samples: ims-call sends WAV files of 16-bit PCM, mu-law or A-law", format_name(subtype)));
    if (info.channels != 1)
        throw bad(fmt::format("{} channels: ims-call sends mono WAV files", info.channels));
    if (info.samplerate != 8000)
        throw bad(fmt::format("{} Hz: ims-call sends 8000 Hz audio (G.711); resample the file first", info.samplerate));
    if (info.frames <= 0)
        throw bad("no audio samples");
    if (info.frames > max_frames)
        throw bad("longer than an hour (ims-call keeps the file in memory)");
    auto audio = std::make_shared<WavAudio>();
    audio->path = path;
    audio->encoding = encoding;
    audio->samples.resize(static_cast<std::size_t>(info.frames));
    const sf_count_t read = sf_readf_short(file, audio->samples.data(), info.frames);
    if (read <= 0)
        throw bad(fmt::format("cannot read its samples ({})", sf_strerror(file)));
    audio->samples.resize(static_cast<std::size_t>(read));
    return audio;
}

} // namespace imsp2p::call
