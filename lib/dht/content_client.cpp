#include "dht/content_client.hpp"

#include "cli/outcome.hpp"
#include "dht/overlay_node.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <arpa/inet.h>

#include <algorithm>
#include <future>
#include <thread>

namespace imsp2p::dht {
namespace {

using Clock = std::chrono::steady_clock;

std::string utc(std::int64_t seconds)
{
    const auto time = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&time, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                       tm.tm_min, tm.tm_sec);
}

} // namespace

void add_content_client_options(CLI::App& app, ContentClientOptions& o, const std::string& group)
{
    std::vector<CLI::Option*> added{
        app.add_option("--dht", o.dht, "HOST:PORT of a core node of the managed overlay, for content records (repeatable)")
            ->type_name("HOST:PORT"),
        app.add_option("--network-id", o.network_id, "The overlay's network id (default: p2p-node's, 4803923)")->type_name("N"),
        app.add_option("--ca", o.ca, "The overlay CA's certificate (ca.crt) that content records must chain to")
            ->type_name("FILE")};
    if (!group.empty())
        for (auto* option : added)
            option->group(group);
}

void check_content_client_options(const ContentClientOptions& o)
{
    if (!o.enabled()) {
        if (o.network_id != 0 || !o.ca.empty())
            throw Failure(Outcome::usage, "--network-id and --ca are for content records: give --dht HOST:PORT too");
        return;
    }
    for (const auto& entry : o.dht)
        parse_bootstrap(entry, "--dht");
    if (o.ca.empty())
        throw Failure(Outcome::usage, "--dht needs --ca FILE: the overlay CA's certificate that content records chain to");
}

std::string client_bind_for(const std::string& listen)
{
    const auto host = listen.substr(0, listen.rfind(':'));
    in_addr address{};
    return inet_pton(AF_INET, host.c_str(), &address) == 1 ? host : "0.0.0.0";
}

ContentClient::ContentClient(const ContentClientOptions& o)
    : ca_(load_certificate(o.ca)), verifier_(std::make_shared<const ContentVerifier>(ca_)), timeout_(o.timeout)
{
    check_content_client_options(o);
    OverlayConfig config;
    config.name = "content-client";
    // Unbound, a client reaching a loopback testbed stays on loopback.
    config.address = o.bind == "0.0.0.0" && o.dht.front().starts_with("127.") ? "127.0.0.1" : o.bind;
    config.network_id = o.network_id ? o.network_id : default_network_id;
    config.bootstrap = o.dht;
    config.content_verifier = verifier_;
    config.op_timeout = o.timeout;
    config.shutdown_wait = std::chrono::milliseconds(200); // the puts were acknowledged: nothing to hand on
    node_ = std::make_unique<OverlayNode>(config);
    const auto deadline = Clock::now() + o.timeout;
    while (node_->stats().good_nodes == 0) {
        if (Clock::now() >= deadline)
            throw Failure(Outcome::no_answer, fmt::format("no overlay node answered at {} within {} ms (network id {})",
                                                          fmt::join(o.dht, ", "), o.timeout.count(), config.network_id));
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // Every --dht node in the routing table (briefly): lookups through a
    // single core node were seen to miss records the others hold.
    const auto settle = std::min(deadline, Clock::now() + std::chrono::seconds(2));
    while (node_->stats().good_nodes < o.dht.size() && Clock::now() < settle)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

ContentClient::~ContentClient() = default;

std::vector<RawValue> ContentClient::values(const std::string& key, std::uint16_t type)
{
    using Found = std::pair<bool, std::vector<RawValue>>;
    auto done = std::make_shared<std::promise<Found>>();
    auto result = done->get_future();
    node_->get(key, [done](bool ok, std::vector<RawValue> values) {
        done->set_value({ok, std::move(values)});
    });
    auto [ok, values] = result.get(); // OverlayNode answers every get exactly once, by op_timeout at the latest
    if (!ok && values.empty())
        throw Failure(Outcome::no_answer, fmt::format("the lookup of {} in the overlay got no answer", key));
    std::erase_if(values, [type](const RawValue& value) { return value.type != type; });
    return values;
}

bool ContentClient::publish(const Bytes& record, const std::string& content_id, const std::string& publisher)
{
    // A lookup first, so that the put's search starts out knowing the nodes
    // closest to the key rather than only the --dht ones it joined through.
    values(content_key(content_id), OverlayNode::content_type);
    auto done = std::make_shared<std::promise<bool>>();
    auto result = done->get_future();
    node_->put(content_key(content_id), record, content_value_id(publisher, content_id), OverlayNode::content_lifetime,
               [done](bool ok) { done->set_value(ok); }, OverlayNode::content_type);
    // OpenDHT acknowledges a put whether or not the storing nodes' policy
    // kept it: a refusal shows in their logs (dropped_forged_value), not here.
    return result.get();
}

ContentLookup ContentClient::lookup(const std::string& content_id)
{
    ContentLookup out;
    const auto now = std::time(nullptr);
    for (const auto& value : values(content_key(content_id), OverlayNode::content_type)) {
        ++out.values;
        auto checked = verifier_->check(value.data, content_id, now);
        if (!checked.ok())
            out.refused.push_back(std::move(checked));
        else if (!out.newest || checked.record.seq > out.newest->record.seq)
            out.newest = std::move(checked);
    }
    return out;
}

ContentRecord ContentClient::resolve(const std::string& content_id)
{
    auto found = lookup(content_id);
    if (found.newest)
        return found.newest->record;
    if (found.refused.empty())
        throw Failure(Outcome::negative, fmt::format("content id {} has no content record in the overlay", content_id));
    std::vector<std::string> reasons;
    for (const auto& checked : found.refused)
        reasons.push_back(fmt::format("{} ({}{}{})", verdict_name(checked.verdict), checked.why,
                                      checked.publisher.empty() ? "" : "; publisher ", checked.publisher));
    throw Failure(Outcome::auth, fmt::format("content id {} has no valid content record: {} refused: {}", content_id,
                                             found.refused.size(), fmt::join(reasons, "; ")));
}

nlohmann::json content_record_json(const ContentRecord& record)
{
    const auto& i = record.info;
    auto or_null = [](const std::string& text) { return text.empty() ? nlohmann::json() : nlohmann::json(text); };
    return {{"content_id", i.content_id},
            {"publisher", i.publisher},
            {"name", i.name},
            {"size", i.size},
            {"info_hash_v1", or_null(i.info_hash_v1)},
            {"info_hash_v2", or_null(i.info_hash_v2)},
            {"magnet", i.magnet},
            {"kid", or_null(i.kid)},
            {"license_server", or_null(i.license_server)},
            {"seq", record.seq},
            {"expires", record.expires},
            {"expires_at", utc(record.expires)}};
}

} // namespace imsp2p::dht
