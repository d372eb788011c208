#include "probe/dht_crawl.hpp"

#include "probe/dht_find.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

namespace imsp2p::probe {
namespace {

using Clock = std::chrono::steady_clock;
// A departed node costs its wave attempts × wait; answers on a LAN take well under a millisecond.
constexpr std::chrono::milliseconds find_wait{300};
constexpr unsigned find_attempts = 2;

// `hex` with bit `bit` (0: the most significant) flipped.
std::string flip(std::string hex, unsigned bit)
{
    auto& digit = hex[bit / 4];
    const int value = std::stoi(std::string(1, digit), nullptr, 16) ^ (8 >> (bit % 4));
    digit = "0123456789abcdef"[value];
    return hex;
}

} // namespace

Crawl crawl_overlay(const CrawlOptions& options, const std::string& self, const std::map<std::string, std::string>& start)
{
    Crawl out;
    out.nodes = start;
    out.nodes.erase(self);
    DhtFinder finder(options.bind, options.network_id);
    std::set<std::string> asked;
    const auto started = Clock::now();
    const auto deadline = started + std::chrono::milliseconds(static_cast<long long>(options.seconds * 1000));
    while (Clock::now() < deadline && out.nodes.size() < options.max_nodes) {
        std::vector<std::pair<std::string, std::string>> wave; // id, address
        for (const auto& node : out.nodes)
            if (!asked.contains(node.first))
                wave.push_back(node);
        if (wave.empty()) {
            out.complete = true;
            break;
        }
        // One key per routing-table bucket that may hold nodes: a node's
        // buckets beyond log2(N) bits are empty or its nearest neighbours.
        const auto bits = std::clamp<unsigned>(static_cast<unsigned>(std::ceil(std::log2(out.nodes.size() + 1))) + 3, 4, 159);
        std::vector<FindQuery> queries;
        for (const auto& [id, address] : wave) {
            asked.insert(id);
            queries.push_back({address, id});
            for (unsigned bit = 0; bit < bits; ++bit)
                queries.push_back({address, flip(id, bit)});
        }
        ++out.waves;
        out.finds += static_cast<unsigned>(queries.size());
        const auto answers = finder.find_all(queries, find_wait, find_attempts, deadline);
        std::set<std::string> answering;
        for (std::size_t i = 0; i < answers.size(); ++i) {
            if (!answers[i].answered)
                continue;
            answering.insert(queries[i].address);
            for (const auto& node : answers[i].nodes)
                if (node.id != self && out.nodes.size() < options.max_nodes)
                    out.nodes.emplace(node.id, node.address);
        }
        out.answered += static_cast<unsigned>(answering.size());
    }
    out.requests = finder.requests_sent();
    out.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return out;
}

} // namespace imsp2p::probe
