#include "cli/tool.hpp"

#include "cli/log.hpp"
#include "cli/versions.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>

namespace imsp2p::cli {

Tool::Tool(std::string name, std::string summary) : name_(std::move(name)), app_(std::move(summary), name_)
{
    app_.set_help_flag("-h,--help", "Print this help and exit");
    app_.add_flag("-V,--version", version_count_, "Print the version and exit (-VV: with library versions)");
    app_.add_flag_function(
        "-v,--verbose", [this](std::int64_t n) { common_.verbosity += static_cast<int>(n); },
        "More diagnostics on stderr (repeat for more)");
    app_.add_flag_function(
        "-q,--quiet", [this](std::int64_t n) { common_.verbosity -= static_cast<int>(n); },
        "Fewer diagnostics on stderr (-qq: none)");
    app_.add_flag("--json", common_.json, "Print JSON Lines on stdout (one object per event)");
    app_.set_config("--config", "", "Read options from FILE (INI/TOML: name = value)")->type_name("FILE");
    choices(app_.add_option("--generate-completion", completion_shell_, "Print a completion script")
                ->group(""),
            {"bash", "zsh", "fish"});
}

CLI::Validator positive()
{
    return CLI::Validator(
        [](std::string& text) -> std::string {
            try {
                size_t used = 0;
                if (std::stod(text, &used) > 0 && used == text.size())
                    return {};
            } catch (const std::exception&) {
            }
            return "must be greater than 0, not " + text;
        },
        "POSITIVE");
}

CLI::Option* Tool::add_timeout(double default_seconds, const std::string& what)
{
    common_.timeout = default_seconds;
    return app_.add_option("--timeout", common_.timeout, what)
        ->type_name("SECONDS")
        ->check(positive())
        ->capture_default_str();
}

CLI::Option* Tool::choices(CLI::Option* option, std::vector<std::string> values)
{
    option->check(CLI::IsMember(values));
    choices_[option] = std::move(values);
    return option;
}

int Tool::finish(int code)
{
    try {
        out_.flush();
    } catch (const Failure& failure) {
        spdlog::error("{}", failure.what());
        return exit_code(Outcome::local);
    }
    return code;
}

int Tool::run(int argc, char** argv, const std::function<Outcome()>& body)
{
    // A closed pipe must show as a failed write (exit 5), not kill the process.
    std::signal(SIGPIPE, SIG_IGN);
    // Until options are parsed, diagnostics use the default level.
    setup_logging(name_, 0);
    try {
        try {
            app_.parse(argc, argv);
        } catch (const CLI::CallForHelp&) {
            out_.raw(app_.help());
            return finish(0);
        } catch (const CLI::CallForAllHelp&) {
            out_.raw(app_.help("", CLI::AppFormatMode::All));
            return finish(0);
        } catch (const CLI::ParseError& error) {
            if (error.get_exit_code() == 0)
                return finish(0);
            spdlog::error("{} (try '{} --help')", error.what(), name_);
            return exit_code(Outcome::usage);
        }
        setup_logging(name_, common_.verbosity);
        out_.set_json(common_.json);

        if (!completion_shell_.empty()) {
            out_.raw(completion(completion_shell_));
            return finish(0);
        }
        if (version_count_ > 0) {
            nlohmann::json fields{{"tool", name_}, {"version", toolkit_version()}};
            std::string text = fmt::format("{} (imsp2p) {}\n", name_, toolkit_version());
            if (version_count_ > 1) {
                for (const auto& [library, version] : library_versions()) {
                    fields["libraries"][library] = version;
                    text += fmt::format("  {:<14} {}\n", library, version);
                }
            }
            out_.event("version", fields, text);
            return finish(0);
        }
        return finish(exit_code(body()));
    } catch (const Failure& failure) {
        spdlog::error("{}", failure.what());
        // Output written before the failure still has to reach its reader.
        std::fflush(stdout);
        return exit_code(failure.outcome());
    } catch (const std::exception& error) {
        spdlog::critical("internal error: {}", error.what());
        return exit_code(Outcome::local);
    }
}

} // namespace imsp2p::cli
