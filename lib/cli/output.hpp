// Standard output of a tool: human text by default, JSON Lines with --json.
// One call per event serves both forms, so they cannot drift apart.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace imsp2p::cli {

// RFC 3339 UTC timestamp with milliseconds, e.g. 2026-11-25T17:21:00.123Z.
std::string rfc3339_now();

class Output {
public:
    explicit Output(bool json = false, std::FILE* stream = stdout) : json_(json), stream_(stream) {}

    bool json() const { return json_; }
    void set_json(bool json) { json_ = json; }

    // Prints {"event":name,"ts":…,fields…} in JSON mode, `text` otherwise
    // (nothing when text is empty). Throws Failure(local) when the write fails.
    void event(std::string_view name, const nlohmann::json& fields, std::string_view text);

    // Raw text (help, version): printed in both modes.
    void raw(std::string_view text);

    // Flushes; throws Failure(local) if anything written so far was lost.
    void flush();

private:
    void write(std::string_view text);

    bool json_;
    std::FILE* stream_;
};

} // namespace imsp2p::cli
