#include "ue/core_discovery.hpp"

#include "cli/outcome.hpp"
#include "dht/content_client.hpp"
#include "util/random.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace imsp2p::ue {
namespace {

constexpr auto failed_for = std::chrono::seconds(30); // a dead node's record lapses within 3 intervals

} // namespace

void add_core_discovery_options(CLI::App& app, CoreDiscoveryOptions& o)
{
    const std::string group = "Core discovery";
    app.add_option("--core-overlay", o.overlay,
                   "HOST:PORT of a node of the managed overlay: pick the core node from the load records instead of --proxy")
        ->type_name("HOST:PORT")
        ->group(group);
    app.add_option("--core-ca", o.ca, "The overlay CA's certificate (ca.crt) that load records must chain to")
        ->type_name("FILE")
        ->group(group);
    app.add_option("--core-network-id", o.network_id, "The overlay's network id (default: p2p-node's, 4803923)")
        ->type_name("N")
        ->group(group);
    app.add_option("--core-attempts", o.attempts, "Failing core nodes (503, no answer) tried per registration, and 302s followed at most")
        ->type_name("N")
        ->capture_default_str()
        ->group(group);
}

void check_core_discovery_options(const CoreDiscoveryOptions& o, const std::string& proxy)
{
    if (!o.enabled()) {
        if (!o.ca.empty() || o.network_id != 0)
            throw Failure(Outcome::usage, "--core-ca and --core-network-id need --core-overlay HOST:PORT");
        return;
    }
    dht::parse_bootstrap(o.overlay, "--core-overlay");
    if (o.ca.empty())
        throw Failure(Outcome::usage, "--core-overlay needs --core-ca FILE: the overlay CA's certificate that load records chain to");
    if (!proxy.empty())
        throw Failure(Outcome::usage, "--core-overlay picks the proxy: leave out --proxy");
    if (o.attempts == 0 || o.attempts > 20)
        throw Failure(Outcome::usage, fmt::format("invalid --core-attempts {}: give 1 to 20", o.attempts));
}

double pick_weight(const core::CoreLoad& load)
{
    if (load.overloaded)
        return 0.01;
    const double headroom = 1.0 - load.utilisation();
    return 0.01 + headroom * headroom;
}

std::size_t pick_weighted(const std::vector<core::CoreLoad>& loads, double unit)
{
    double total = 0;
    for (const auto& load : loads)
        total += pick_weight(load);
    double point = std::clamp(unit, 0.0, 1.0) * total;
    for (std::size_t i = 0; i < loads.size(); ++i) {
        point -= pick_weight(loads[i]);
        if (point < 0)
            return i;
    }
    return loads.size() - 1;
}

CoreDirectory::CoreDirectory(const CoreDiscoveryOptions& options, const std::string& bind, std::chrono::milliseconds timeout)
    : options_(options)
{
    dht::ContentClientOptions client;
    client.dht = {options.overlay};
    client.network_id = options.network_id;
    client.ca = options.ca;
    client.bind = bind;
    client.timeout = timeout;
    client_ = std::make_unique<dht::ContentClient>(client);
    read();
    if (nodes_.empty())
        throw Failure(refused_ ? Outcome::auth : Outcome::negative,
                      refused_ ? fmt::format("no valid core load record in the overlay ({} refused: not signed by a node of "
                                             "the CA in {})", refused_, options.ca)
                               : "no core node has published a load record in the overlay");
}

CoreDirectory::~CoreDirectory()
{
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (refresher_.joinable())
        refresher_.join();
}

void CoreDirectory::read()
{
    std::vector<Bytes> data;
    for (auto& value : client_->values(std::string(core::core_load_key), dht::OverlayNode::load_type))
        data.push_back(std::move(value.data));
    std::vector<core::LoadChecked> refused;
    auto loads = core::newest_loads(client_->verifier(), data, std::time(nullptr), &refused);
    for (const auto& checked : refused)
        spdlog::debug("load record refused: {} ({}; signer '{}')", dht::verdict_name(checked.verdict), checked.why,
                      checked.signer);
    std::lock_guard lock(mutex_);
    nodes_ = std::move(loads);
    refused_ = refused.size();
}

std::vector<core::CoreLoad> CoreDirectory::nodes() const
{
    std::lock_guard lock(mutex_);
    return nodes_;
}

std::size_t CoreDirectory::refused() const
{
    std::lock_guard lock(mutex_);
    return refused_;
}

std::optional<std::string> CoreDirectory::pick(const std::vector<std::string>& avoid)
{
    std::vector<core::CoreLoad> candidates, failed;
    {
        std::lock_guard lock(mutex_);
        const auto now = std::chrono::steady_clock::now();
        for (const auto& load : nodes_) {
            if (std::find(avoid.begin(), avoid.end(), load.sip) != avoid.end())
                continue;
            const auto marked = failed_.find(load.sip);
            (marked != failed_.end() && marked->second > now ? failed : candidates).push_back(load);
        }
    }
    // Nodes that timed out lately are a last resort, not excluded: a core
    // recovering from a lost node answers slowly for a few seconds.
    if (candidates.empty())
        candidates = std::move(failed);
    if (candidates.empty())
        return std::nullopt;
    constexpr std::size_t steps = 1u << 20;
    const double unit = static_cast<double>(random_below(steps)) / static_cast<double>(steps);
    return candidates[pick_weighted(candidates, unit)].sip;
}

bool CoreDirectory::failed_lately(const std::string& sip) const
{
    std::lock_guard lock(mutex_);
    const auto found = failed_.find(sip);
    return found != failed_.end() && found->second > std::chrono::steady_clock::now();
}

void CoreDirectory::mark_failed(const std::string& sip)
{
    std::lock_guard lock(mutex_);
    failed_[sip] = std::chrono::steady_clock::now() + failed_for;
}

void CoreDirectory::keep_current(std::chrono::seconds period)
{
    if (refresher_.joinable())
        return;
    refresher_ = std::thread([this, period] {
        std::unique_lock lock(mutex_);
        while (!wake_.wait_for(lock, period, [this] { return stopping_; })) {
            lock.unlock();
            try {
                read();
            } catch (const std::exception& error) {
                spdlog::debug("load records not refreshed: {}", error.what());
            }
            lock.lock();
        }
    });
}

std::string core_planning_proxy(const CoreDiscoveryOptions& options, const std::string& proxy)
{
    check_core_discovery_options(options, proxy);
    if (!options.enabled())
        return {};
    return "sip:" + dht::parse_bootstrap(options.overlay, "--core-overlay").first;
}

std::unique_ptr<CoreDirectory> open_core_directory(const CoreDiscoveryOptions& options, const std::string& local, double timeout_s)
{
    if (!options.enabled())
        return nullptr;
    const auto timeout = std::chrono::milliseconds(static_cast<long long>(std::max(1.0, timeout_s) * 1000));
    return std::make_unique<CoreDirectory>(options, dht::client_bind_for(local.find(':') == std::string::npos ? local + ":0" : local),
                                           timeout);
}

void register_through_core(CoreDirectory& directory, sip::Registration& registration, sip::RegisterAction action,
                           std::function<void(const sip::RegistrationResult&, unsigned)> done)
{
    struct Attempt {
        CoreDirectory& directory;
        sip::Registration& registration;
        sip::RegisterAction action;
        std::function<void(const sip::RegistrationResult&, unsigned)> done;
        std::vector<std::string> tried;
        unsigned failed = 0, redirects = 0; // each bounded by --core-attempts

        void run(std::shared_ptr<Attempt> self, std::optional<std::string> next)
        {
            if (!next)
                next = directory.pick(tried);
            if (!next) // every node tried or failed: once more anywhere but where we just were
                next = directory.pick(tried.empty() ? tried : std::vector<std::string>{tried.back()});
            if (!next) {
                sip::RegistrationResult result;
                result.outcome = Outcome::no_answer;
                result.error = "no core node left to try among the load records";
                done(result, static_cast<unsigned>(tried.size()));
                return;
            }
            tried.push_back(*next);
            registration.params().next_hop = *next;
            registration.forget_challenge(); // a node's nonces are its own
            registration.start(action, [self](const sip::RegistrationResult& result) { self->answered(self, result); });
        }

        void answered(std::shared_ptr<Attempt> self, const sip::RegistrationResult& result)
        {
            const bool redirected = result.status >= 300 && result.status < 400 && !result.redirect.empty();
            const bool elsewhere = result.status == 503 || result.outcome == Outcome::no_answer;
            if (result.outcome == Outcome::no_answer)
                directory.mark_failed(tried.back());
            const unsigned limit = directory.options().attempts;
            if ((!redirected && !elsewhere) || (redirected ? ++redirects : ++failed) >= limit) {
                done(result, static_cast<unsigned>(tried.size()));
                return;
            }
            std::optional<std::string> next;
            if (redirected) {
                // Spread over the alternatives given rather than all taking the first.
                std::vector<std::string> fresh;
                for (const auto& uri : result.redirect)
                    if (std::find(tried.begin(), tried.end(), uri) == tried.end() && !directory.failed_lately(uri))
                        fresh.push_back(uri);
                if (!fresh.empty())
                    next = fresh[random_below(fresh.size())];
            }
            spdlog::debug("{}: {} from {}, trying {}", registration.params().impu, result.status, tried.back(),
                          next.value_or("another node"));
            run(self, next);
        }
    };
    auto attempt = std::make_shared<Attempt>(Attempt{directory, registration, action, std::move(done), {}});
    attempt->run(attempt, std::nullopt);
}

} // namespace imsp2p::ue
