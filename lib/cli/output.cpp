#include "cli/output.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

namespace imsp2p::cli {

std::string rfc3339_now()
{
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

void Output::event(std::string_view name, const nlohmann::json& fields, std::string_view text)
{
    if (json_) {
        nlohmann::ordered_json line;
        line["event"] = name;
        line["ts"] = rfc3339_now();
        for (const auto& [key, value] : fields.items())
            line[key] = value;
        write(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        write("\n");
    } else if (!text.empty()) {
        write(text);
        if (text.back() != '\n')
            write("\n");
    }
    // Line-at-a-time output lets scripts follow long runs (--keep, load summaries).
    flush();
}

void Output::raw(std::string_view text)
{
    write(text);
    flush();
}

void Output::write(std::string_view text)
{
    if (std::fwrite(text.data(), 1, text.size(), stream_) != text.size())
        throw Failure(Outcome::local, fmt::format("cannot write to standard output: {}", std::strerror(errno)));
}

void Output::flush()
{
    if (std::fflush(stream_) != 0 || std::ferror(stream_))
        throw Failure(Outcome::local, fmt::format("cannot write to standard output: {}", std::strerror(errno)));
}

} // namespace imsp2p::cli
