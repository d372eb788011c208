#include "probe/testbed_file.hpp"

#include "cli/outcome.hpp"
#include "probe/probe_cli.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <map>
#include <set>

namespace imsp2p::probe {

std::vector<TestbedEntry> read_testbed(const std::string& file)
{
    std::vector<CLI::ConfigItem> items;
    try {
        items = CLI::ConfigTOML().from_file(file);
    } catch (const CLI::FileError& error) {
        throw Failure(Outcome::usage, fmt::format("--testbed {}: cannot read it", file));
    } catch (const CLI::Error& error) {
        throw Failure(Outcome::usage, fmt::format("--testbed {}: {}", file, error.what()));
    }
    static const std::map<std::string, std::string> positional{
        {"sip", sip_positional}, {"swarm", swarm_positional}, {"license", license_positional}};
    static const std::set<std::string> kinds{"dht", "sip", "swarm", "license", "core"};
    std::vector<TestbedEntry> entries;
    std::map<std::string, std::size_t> index; // "kind.name" → entry
    for (const auto& item : items) {
        // CLI11 marks entering and leaving a section with items named "++" and "--".
        if (item.name == "++" || item.name == "--")
            continue;
        if (item.parents.empty())
            throw Failure(Outcome::usage, fmt::format("--testbed {}: '{}' is outside any [probe] section", file, item.name));
        const auto& kind = item.parents[0];
        if (!kinds.contains(kind))
            throw Failure(Outcome::usage, fmt::format("--testbed {}: [{}] is not a probe (dht, sip, swarm, license or core)", file, kind));
        if (item.parents.size() > 2)
            throw Failure(Outcome::usage, fmt::format("--testbed {}: section [{}] is nested too deep: use [KIND.NAME]", file,
                                                      fmt::join(item.parents, ".")));
        const auto name = item.parents.size() == 2 ? item.parents[1] : kind;
        const auto key = kind + "." + name;
        auto found = index.find(key);
        if (found == index.end()) {
            found = index.emplace(key, entries.size()).first;
            entries.push_back({kind, name, {}});
        }
        auto& args = entries[found->second].args;
        const auto pos = positional.find(kind);
        for (const auto& input : item.inputs) {
            if (pos != positional.end() && item.name == pos->second)
                args.push_back(input);
            else
                args.push_back(fmt::format("--{}={}", item.name, input));
        }
    }
    if (entries.empty())
        throw Failure(Outcome::usage, fmt::format("--testbed {}: no probe sections ([dht], [sip.NAME], …)", file));
    return entries;
}

} // namespace imsp2p::probe
