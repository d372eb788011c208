#include "probe/dht_probe.hpp"

#include "dht/overlay_node.hpp"
#include "probe/dht_client.hpp"
#include "probe/dht_crawl.hpp"
#include "util/histogram.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <thread>

namespace imsp2p::probe {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds ms_of(double seconds)
{
    return milliseconds(static_cast<long long>(seconds * 1000));
}

double round3(double value)
{
    return std::round(value * 1000) / 1000;
}

// The top 64 bits of an id, enough precision for a distance fraction.
std::uint64_t prefix(const std::string& hex)
{
    return std::stoull(hex.substr(0, 16), nullptr, 16);
}

} // namespace

void check(const DhtProbeOptions& options)
{
    if (options.bootstrap.empty())
        throw Failure(Outcome::usage, "dht: give at least one --bootstrap HOST:PORT");
    for (const auto& entry : options.bootstrap)
        dht::parse_bootstrap(entry, "--bootstrap");
    if (options.network_id == 0)
        throw Failure(Outcome::usage, "dht: give the overlay's --network-id (0 is OpenDHT's public network)");
    in_addr address{};
    if (inet_pton(AF_INET, options.bind.c_str(), &address) != 1)
        throw Failure(Outcome::usage, fmt::format("dht: --bind '{}' is not an IPv4 address", options.bind));
}

double estimate_size(const std::vector<std::pair<std::string, std::vector<std::string>>>& lookups, unsigned k)
{
    std::vector<double> estimates;
    for (const auto& [key, ids] : lookups) {
        if (ids.size() < k)
            continue;
        const auto target = prefix(key);
        std::vector<std::uint64_t> distances;
        for (const auto& id : ids)
            distances.push_back(prefix(id) ^ target);
        std::sort(distances.begin(), distances.end());
        const double fraction = (static_cast<double>(distances[k - 1]) + 1) / 18446744073709551616.0;
        estimates.push_back(k / fraction);
    }
    if (estimates.empty())
        return 0;
    std::nth_element(estimates.begin(), estimates.begin() + static_cast<long>(estimates.size() / 2), estimates.end());
    return estimates[estimates.size() / 2];
}

std::string diagnose_udp(const std::string& address)
{
    const auto [host, port] = dht::parse_bootstrap(address, "DHT node");
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1)
        return "silent";
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return "silent";
    std::string verdict = "silent";
    // A connected UDP socket reports the ICMP port-unreachable of a closed port as ECONNREFUSED.
    const char probe[] = "imsp2p overlay-probe";
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) == 0 &&
        ::send(fd, probe, sizeof probe - 1, 0) >= 0) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 300) > 0) {
            char buffer[512];
            const auto got = ::recv(fd, buffer, sizeof buffer, 0);
            if (got < 0 && errno == ECONNREFUSED)
                verdict = "nothing listens";
            else if (got >= 0)
                verdict = "answers, but not as an OpenDHT node";
        }
    }
    ::close(fd);
    return verdict;
}

ProbeResult probe_dht(const DhtProbeOptions& options)
{
    check(options);
    ProbeResult result;
    result.probe = "dht";
    result.target = fmt::format("{} network {}", fmt::join(options.bootstrap, ","), options.network_id);
    result.fields["bootstrap"] = options.bootstrap;
    result.fields["network_id"] = options.network_id;

    std::vector<std::string> addresses;
    try {
        for (const auto& entry : options.bootstrap)
            for (auto& address : DhtClient::resolve(entry))
                addresses.push_back(std::move(address));
    } catch (const Failure& failure) {
        result.outcome = failure.outcome();
        result.error = failure.what();
        result.summary = result.error;
        return result;
    }

    const auto node = DhtClient::shared({options.bind, options.network_id});
    auto& client = *node;
    const auto op_timeout = ms_of(options.timeout);
    const auto rtts = client.ping_all(addresses, op_timeout);
    nlohmann::json bootstrap_rtt = nlohmann::json::object();
    std::vector<std::string> silent;
    double best_rtt = -1;
    for (std::size_t i = 0; i < addresses.size(); ++i) {
        bootstrap_rtt[addresses[i]] = rtts[i] ? nlohmann::json(round3(*rtts[i])) : nlohmann::json();
        if (rtts[i] && (best_rtt < 0 || *rtts[i] < best_rtt))
            best_rtt = *rtts[i];
        if (!rtts[i])
            silent.push_back(addresses[i]);
    }
    result.fields["bootstrap_rtt_ms"] = bootstrap_rtt;
    if (best_rtt < 0) {
        // No OpenDHT answer: say what is at the address, since a wrong network id looks just like silence.
        std::vector<std::string> why;
        for (const auto& address : silent) {
            const auto verdict = diagnose_udp(address);
            why.push_back(fmt::format("{}: {}", address, verdict));
        }
        result.outcome = Outcome::no_answer;
        result.error = fmt::format("no bootstrap node answered an OpenDHT ping on network {} within {} s ({}); "
                                   "a node of another network id stays silent",
                                   options.network_id, options.timeout, fmt::join(why, "; "));
        result.summary = "bootstrap unreachable";
        result.metric("nodes", 0);
        return result;
    }

    // Joining: a lookup of our own id fills the routing table with our neighbours.
    client.lookup(client.node_id(), op_timeout);

    std::map<std::string, std::string> seen; // id → address, every node that answered a lookup
    std::vector<std::pair<std::string, std::vector<std::string>>> samples;
    const auto self = client.node_id();
    auto note = [&](const std::string& key, const Lookup& lookup) {
        std::vector<std::string> ids;
        for (const auto& node : lookup.nodes) {
            if (node.id == self)
                continue; // other nodes may already name the probe itself
            seen.emplace(node.id, node.address);
            ids.push_back(node.id);
        }
        samples.emplace_back(key, std::move(ids));
    };

    // Put→get on a fresh probe key: what a location update followed by a lookup costs.
    const std::string probe_text = fmt::format("imsp2p-overlay-probe/{}", DhtClient::random_key());
    const auto probe_key = DhtClient::hash_of(probe_text);
    const Bytes payload(probe_text.begin(), probe_text.end());
    auto started = Clock::now();
    const bool put_ok = client.put(probe_key, payload, op_timeout);
    const double put_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
    const auto got = client.lookup(probe_key, op_timeout);
    note(probe_key, got);
    const bool found = std::find(got.values.begin(), got.values.end(), payload) != got.values.end();

    LatencyHistogram latency;
    unsigned failed = 0;
    for (unsigned i = 0; i < options.lookups; ++i) {
        const auto key = DhtClient::random_key();
        const auto lookup = client.lookup(key, op_timeout);
        note(key, lookup);
        if (lookup.ok && !lookup.nodes.empty())
            latency.add(lookup.ms);
        else
            ++failed;
    }
    const unsigned operations = options.lookups + 1;
    const double loss = 100.0 * (failed + (found ? 0 : 1)) / operations;

    nlohmann::json crawl_fields;
    std::map<std::string, std::string> found_nodes = seen;
    Crawl crawled;
    unsigned long requests_before = 0;
    if (options.crawl) {
        requests_before = client.requests_sent();
        crawled = crawl_overlay({options.bind, options.network_id, options.max_nodes, options.crawl_time}, self, seen);
        found_nodes = crawled.nodes;
    }
    // Every node found is pinged and only those that answer count: routing
    // tables keep departed nodes (e.g. earlier probes) for minutes, and
    // lookups name them too.
    std::vector<std::string> ids, where;
    for (const auto& [id, address] : found_nodes) {
        ids.push_back(id);
        where.push_back(address);
    }
    const auto node_rtts = client.ping_all(where, std::max(milliseconds(1000), op_timeout));
    std::set<std::string> alive;
    for (std::size_t i = 0; i < ids.size(); ++i)
        if (node_rtts[i])
            alive.insert(ids[i]);
    const std::size_t reachable = alive.size();
    const std::size_t unresponsive = ids.size() - reachable;
    for (auto& [key, sample_ids] : samples)
        std::erase_if(sample_ids, [&](const std::string& id) { return !alive.contains(id); });
    result.fields["unresponsive_nodes"] = unresponsive;
    if (options.crawl) {
        for (std::size_t i = 0; i < ids.size(); ++i)
            result.items.push_back({{"id", ids[i]},
                                    {"address", where[i]},
                                    {"rtt_ms", node_rtts[i] ? nlohmann::json(round3(*node_rtts[i])) : nlohmann::json()}});
        result.item_event = "dht_node";
        crawl_fields = {{"found", reachable},
                        {"unresponsive", unresponsive},
                        {"finds", crawled.finds},
                        {"waves", crawled.waves},
                        {"seconds", round3(crawled.seconds)},
                        {"complete", crawled.complete},
                        {"requests", crawled.requests + (client.requests_sent() - requests_before)}};
        result.fields["crawl"] = crawl_fields;
        result.metric("crawl_nodes", static_cast<double>(reachable));
        result.metric("crawl_seconds", crawled.seconds);
    }

    const double estimate = estimate_size(samples);
    const auto size_method = estimate > 0 ? fmt::format("k-closest distance, k=8, median of {} lookups", samples.size())
                                          : std::string("count of nodes seen (no lookup found 8 nodes)");
    const double size = estimate > 0 ? std::round(estimate) : static_cast<double>(reachable);
    const unsigned good = client.good_nodes(), dubious = client.dubious_nodes();
    const double p50 = latency.quantile(0.5), p99 = latency.quantile(0.99);

    result.metric("nodes", static_cast<double>(reachable));
    result.metric("good_nodes", good);
    result.metric("dubious_nodes", dubious);
    result.metric("size_estimate", size);
    result.metric("rtt_ms", put_ms + got.ms);
    result.metric("lookup_p50_ms", p50);
    result.metric("lookup_p99_ms", p99);
    result.metric("loss_pct", loss);
    result.fields["reachable_nodes"] = reachable;
    result.fields["good_nodes"] = good;
    result.fields["dubious_nodes"] = dubious;
    result.fields["size_estimate"] = size;
    result.fields["size_method"] = size_method;
    result.fields["put_ok"] = put_ok;
    result.fields["put_ms"] = round3(put_ms);
    result.fields["get_ms"] = round3(got.ms);
    result.fields["probe_found"] = found;
    result.fields["lookups"] = options.lookups;
    result.fields["lookups_failed"] = failed;
    result.fields["lookup_p50_ms"] = round3(p50);
    result.fields["lookup_p99_ms"] = round3(p99);
    result.fields["loss_pct"] = round3(loss);

    if (!put_ok || !found) {
        result.outcome = Outcome::negative;
        result.error = put_ok ? "the probe value was stored but a get did not find it"
                              : "the overlay did not acknowledge the probe value";
    } else if (failed == options.lookups && options.lookups > 0) {
        result.outcome = Outcome::negative;
        result.error = "every lookup failed";
    }
    result.summary = fmt::format("{} nodes reachable, ~{} in the overlay, put/get {:.1f} ms, lookups p50 {:.1f} ms "
                                 "p99 {:.1f} ms, loss {:.0f}%",
                                 reachable, size, put_ms + got.ms, p50, p99, loss);
    if (!result.error.empty())
        result.summary = result.error + "; " + result.summary;

    std::string& d = result.detail;
    d += fmt::format("overlay network {} through {}\n", options.network_id, fmt::join(options.bootstrap, ", "));
    for (std::size_t i = 0; i < addresses.size(); ++i)
        d += fmt::format("  bootstrap {:<22} {}\n", addresses[i],
                         rtts[i] ? fmt::format("rtt {:.2f} ms", *rtts[i]) : std::string("no answer"));
    d += fmt::format("  reachable nodes      {}{}\n", reachable,
                     unresponsive ? fmt::format(" ({} more named by routing tables did not answer)", unresponsive) : "");
    d += fmt::format("  routing table        {} good, {} dubious\n", good, dubious);
    d += fmt::format("  size estimate        {} ({})\n", size, size_method);
    d += fmt::format("  put → get            {} in {:.2f} ms (put {:.2f} ms, get {:.2f} ms)\n",
                     found ? "found" : put_ok ? "NOT FOUND" : "PUT FAILED", put_ms + got.ms, put_ms, got.ms);
    d += fmt::format("  lookups              {} ({} failed), p50 {:.2f} ms, p99 {:.2f} ms\n", options.lookups, failed, p50, p99);
    if (options.crawl) {
        d += fmt::format("  crawl                {} nodes found ({} more did not answer), {} finds in {} waves, {} requests in {:.2f} s{}\n",
                         crawl_fields["found"].get<std::size_t>(), crawl_fields["unresponsive"].get<std::size_t>(),
                         crawl_fields["finds"].get<unsigned>(), crawl_fields["waves"].get<unsigned>(),
                         crawl_fields["requests"].get<unsigned long>(),
                         crawl_fields["seconds"].get<double>(),
                         crawl_fields["complete"].get<bool>() ? "" : " (stopped by --max-nodes or --crawl-time)");
        d += fmt::format("  {:<40} {:<22} {}\n", "ID", "ADDRESS", "RTT");
        for (const auto& item : result.items)
            d += fmt::format("  {:<40} {:<22} {}\n", item["id"].get<std::string>(), item["address"].get<std::string>(),
                             item["rtt_ms"].is_null() ? std::string("-") : fmt::format("{:.2f} ms", item["rtt_ms"].get<double>()));
    }
    return result;
}

} // namespace imsp2p::probe
