#include "cli/log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace imsp2p::cli {

void setup_logging(const std::string& tool, int verbosity)
{
    auto logger = spdlog::get(tool);
    if (!logger) {
        logger = spdlog::stderr_color_mt(tool);
        logger->set_pattern("%n: %^%l%$: %v");
    }
    spdlog::level::level_enum level = spdlog::level::warn;
    if (verbosity >= 3)
        level = spdlog::level::trace;
    else if (verbosity == 2)
        level = spdlog::level::debug;
    else if (verbosity == 1)
        level = spdlog::level::info;
    else if (verbosity == -1)
        level = spdlog::level::err;
    else if (verbosity <= -2)
        level = spdlog::level::off;
    logger->set_level(level);
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

} // namespace imsp2p::cli
