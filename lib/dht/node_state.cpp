#include "dht/node_state.hpp"

#include "cli/outcome.hpp"
#include "dht/state_files.hpp"
#include "util/hex.hpp"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <sstream>

namespace imsp2p::dht {
namespace {

constexpr const char* cache_header = "# imsp2p overlay node cache v1";
constexpr std::size_t max_cached_nodes = 1024; // a cache is a hint, never a flood of pings

std::optional<::dht::InfoHash> parse_id(std::string_view hex)
{
    const auto bytes = from_hex(hex);
    if (!bytes || bytes->size() != ::dht::InfoHash::size())
        return std::nullopt;
    return ::dht::InfoHash(bytes->data(), bytes->size());
}

std::optional<sockaddr_in> parse_address(std::string_view text)
{
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return std::nullopt;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    unsigned port = 0;
    const auto port_text = text.substr(colon + 1);
    const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (error != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return std::nullopt;
    sin.sin_port = htons(static_cast<std::uint16_t>(port));
    if (inet_pton(AF_INET, std::string(text.substr(0, colon)).c_str(), &sin.sin_addr) != 1)
        return std::nullopt;
    return sin;
}

} // namespace

std::optional<::dht::InfoHash> read_node_id(const std::filesystem::path& file)
{
    if (!std::filesystem::exists(file))
        return std::nullopt;
    std::string text = read_file(file);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    const auto id = parse_id(text);
    if (!id || !*id)
        throw Failure(Outcome::usage, fmt::format("{}: not a node id (40 hex digits)", file.string()));
    return id;
}

void write_node_id(const std::filesystem::path& file, const ::dht::InfoHash& id)
{
    write_file(file, id.toString() + "\n", 0644);
}

std::vector<::dht::NodeExport> read_node_cache(const std::filesystem::path& file)
{
    if (!std::filesystem::exists(file))
        return {};
    std::istringstream in(read_file(file));
    std::string line;
    if (!std::getline(in, line) || line != cache_header)
        throw Failure(Outcome::usage, fmt::format("{}:1: not an imsp2p node cache", file.string()));
    std::vector<::dht::NodeExport> nodes;
    for (unsigned number = 2; std::getline(in, line) && nodes.size() < max_cached_nodes; ++number) {
        const auto space = line.find(' ');
        const auto id = space == std::string::npos ? std::nullopt : parse_id(std::string_view(line).substr(0, space));
        const auto address = space == std::string::npos ? std::nullopt : parse_address(std::string_view(line).substr(space + 1));
        if (!id || !address)
            throw Failure(Outcome::usage, fmt::format("{}:{}: expected 'ID ADDRESS:PORT'", file.string(), number));
        ::dht::NodeExport node{};
        node.id = *id;
        std::memcpy(&node.ss, &*address, sizeof *address);
        node.sslen = sizeof *address;
        nodes.push_back(node);
    }
    return nodes;
}

void write_node_cache(const std::filesystem::path& file, const std::vector<::dht::NodeExport>& nodes)
{
    std::string text = std::string(cache_header) + "\n";
    std::size_t written = 0;
    for (const auto& node : nodes) {
        if (node.ss.ss_family != AF_INET || node.sslen < sizeof(sockaddr_in) || written == max_cached_nodes)
            continue;
        sockaddr_in sin;
        std::memcpy(&sin, &node.ss, sizeof sin);
        char address[INET_ADDRSTRLEN] = {};
        inet_ntop(AF_INET, &sin.sin_addr, address, sizeof address);
        text += fmt::format("{} {}:{}\n", node.id.toString(), address, ntohs(sin.sin_port));
        ++written;
    }
    write_file(file, text, 0644);
}

} // namespace imsp2p::dht
