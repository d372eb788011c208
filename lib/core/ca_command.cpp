#include "core/ca_command.hpp"

#include "dht/overlay_ca.hpp"
#include "dht/overlay_key.hpp"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <system_error>

namespace imsp2p::core {
namespace {

std::chrono::seconds days(unsigned count)
{
    return std::chrono::hours(24) * count;
}

void need_dir(const CaOptions& options)
{
    if (options.dir.empty())
        throw Failure(Outcome::usage, "--dir is required: the directory of the CA's files");
}

} // namespace

Outcome run_ca_init(const CaOptions& options, cli::Output& out)
{
    need_dir(options);
    const std::filesystem::path dir = options.dir;
    if (std::filesystem::exists(dir / "ca.key"))
        throw Failure(Outcome::usage, fmt::format("{} exists already: a CA is never overwritten", (dir / "ca.key").string()));
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error)
        throw Failure(Outcome::local, fmt::format("cannot create {}: {}", dir.string(), error.message()));
    const std::string name = options.name.empty() ? "imsp2p testbed CA" : options.name;
    dht::OverlayKey::generate().save(dir / "overlay.key");
    dht::OverlayCa::create(name, days(options.days)).save(dir);
    out.event("ca_created",
              {{"dir", dir.string()}, {"name", name}, {"days", options.days}, {"certificate", (dir / "ca.crt").string()},
               {"overlay_key", (dir / "overlay.key").string()}},
              fmt::format("created CA '{}' in {} (valid {} days): hand ca.crt and overlay.key to every node, keep ca.key",
                          name, dir.string(), options.days));
    return Outcome::ok;
}

Outcome run_ca_issue(const CaOptions& options, cli::Output& out)
{
    need_dir(options);
    const std::filesystem::path dir = options.dir;
    auto ca = dht::OverlayCa::load(dir);
    const auto credential = ca.issue(options.name, days(options.days));
    credential.save(dir, options.name);
    out.event("node_certificate_issued",
              {{"dir", dir.string()}, {"node", options.name}, {"days", options.days},
               {"certificate", (dir / (options.name + ".crt")).string()}, {"key", (dir / (options.name + ".key")).string()}},
              fmt::format("issued {}.crt and {}.key in {} (valid {} days)", options.name, options.name, dir.string(), options.days));
    return Outcome::ok;
}

} // namespace imsp2p::core
