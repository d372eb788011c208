// The frame every imsp2p tool runs in: the common options of DESIGN.md §3,
// parsing, logging, version output, and the mapping of outcomes to exit codes.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace imsp2p::cli {

struct CommonOptions {
    int verbosity = 0;    // -v adds one, -q takes one away
    bool json = false;
    double timeout = 5.0; // seconds, for tools that wait for a peer
};

// Accepts numbers greater than 0, with a message a user can act on.
CLI::Validator positive();

class Tool {
public:
    Tool(std::string name, std::string summary);

    CLI::App& app() { return app_; }
    const std::string& name() const { return name_; }
    const CommonOptions& common() const { return common_; }
    Output& out() { return out_; }

    // Adds --timeout SECONDS (tools that wait for a peer).
    CLI::Option* add_timeout(double default_seconds, const std::string& what);

    // Restricts an option to a fixed set of values; completions offer them.
    CLI::Option* choices(CLI::Option* option, std::vector<std::string> values);

    // Parses argv, sets up logging, runs `body`, prints any Failure on stderr
    // and returns the exit code. Parse errors exit 2, help and version 0.
    int run(int argc, char** argv, const std::function<Outcome()>& body);

    // Completion script for bash, zsh or fish, generated from the option definitions.
    std::string completion(const std::string& shell) const;

private:
    int finish(int code);

    std::string name_;
    CLI::App app_;
    CommonOptions common_;
    Output out_;
    int version_count_ = 0;
    std::string completion_shell_;
    std::map<const CLI::Option*, std::vector<std::string>> choices_;
};

} // namespace imsp2p::cli
