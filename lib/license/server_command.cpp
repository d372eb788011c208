#include "license/server_command.hpp"

#include "hss/subscriber_store.hpp"
#include "license/cdr_writer.hpp"
#include "license/http_auth.hpp"
#include "license/http_front.hpp"
#include "license/key_wrap.hpp"
#include "license/license_db.hpp"
#include "license/license_service.hpp"
#include "sip/host_port.hpp"
#include "subscriber/subscriber.hpp"
#include "util/hex.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

namespace fs = std::filesystem;

namespace imsp2p::license {
namespace {

bool is_loopback(const std::string& host)
{
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    return host == "::1";
}

fs::path state_dir_of(const std::string& dir, const char* what)
{
    if (dir.empty())
        throw Failure(Outcome::usage, fmt::format("--state-dir DIR is required: {}", what));
    return dir;
}

// SIGINT/SIGTERM stop the server from a thread of their own (sigwait), so
// that no handler runs on an io thread.
class StopOnSignal {
public:
    // Call before any thread starts: threads inherit the mask, so that only
    // the waiting thread ever receives these signals.
    static sigset_t block()
    {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGUSR1); // our own wake-up at exit
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        return set;
    }
    StopOnSignal(HttpFront& front, sigset_t set)
    {
        thread_ = std::thread([&front, set] {
            int signal = 0;
            sigwait(&set, &signal);
            front.stop();
        });
    }
    ~StopOnSignal()
    {
        pthread_kill(thread_.native_handle(), SIGUSR1);
        thread_.join();
    }

private:
    std::thread thread_;
};

void check_options(const ServerOptions& o)
{
    if (o.domain.empty())
        throw Failure(Outcome::usage, "--domain DOMAIN is required: the Digest realm, e.g. ims.test");
    if (o.cert.empty() != o.key.empty())
        throw Failure(Outcome::usage, "--cert and --key go together");
    const auto where = sip::parse_host_port(o.listen, "--listen");
    if (o.cert.empty() && !is_loopback(where.host))
        throw Failure(Outcome::usage,
                      fmt::format("plain HTTP is only served on loopback, not on {}: give --cert and --key", where.host));
    for (const auto& file : {o.cert, o.key})
        if (!file.empty() && !fs::is_regular_file(file))
            throw Failure(Outcome::usage, fmt::format("{}: no such file", file));
}

} // namespace

Outcome run_server(const ServerOptions& o, cli::Output& out)
{
    check_options(o);
    const sigset_t stop_signals = StopOnSignal::block();
    const auto where = sip::parse_host_port(o.listen, "--listen");
    const unsigned port = where.port ? where.port : (o.cert.empty() ? 8080 : 8443);
    const fs::path state = state_dir_of(o.state_dir, "where the subscribers, keys and CDRs are kept");
    std::error_code ec;
    fs::create_directories(state, ec);
    if (ec || !fs::is_directory(state))
        throw Failure(Outcome::local, fmt::format("{}: cannot create the state directory: {}", state.string(),
                                                  ec ? ec.message() : "not a directory"));
    std::vector<subscriber::Subscriber> rows;
    if (!o.subscribers.empty())
        rows = subscriber::read_subscribers(o.subscribers);
    hss::SubscriberStore store(state / "hss.sqlite");
    if (!o.subscribers.empty())
        store.import(rows);
    const MasterKey master = MasterKey::load_or_create(o.master_key.empty() ? state / "master.key" : fs::path(o.master_key));
    LicenseDb db(state / "license.sqlite");
    // A test hook (documented in docs/architecture.md), never set in production.
    const char* crash = std::getenv("IMSP2P_LICENSE_CRASH_AFTER_COMMIT");
    CdrWriter cdrs(state / "license.sqlite", o.batch, crash && std::string(crash) == "1");

    HttpAuthConfig auth_config;
    auth_config.realm = o.domain;
    auth_config.ind = o.ind;
    auth_config.offer_sha256 = o.digest_algorithm == "sha-256";
    auth_config.nonce_lifetime = std::chrono::seconds(static_cast<long>(o.nonce_lifetime));
    auth_config.max_failures = o.max_failures;
    auth_config.max_address_failures = o.max_address_failures;
    HttpAuthenticator auth(store, auth_config);
    LicenseService service(auth, db, cdrs, master);

    FrontOptions front_options;
    front_options.host = where.host;
    front_options.port = port;
    front_options.cert = o.cert;
    front_options.key = o.key;
    front_options.threads = o.threads ? o.threads : std::max(1u, std::thread::hardware_concurrency());
    front_options.max_body = o.max_body;
    HttpFront front(front_options, [&service](const Request& request, LicenseService::Done done) {
        service.handle(request, std::move(done));
    });
    StopOnSignal stopper(front, stop_signals);
    const std::string scheme = o.cert.empty() ? "http" : "https";
    const std::string url = fmt::format("{}://{}:{}", scheme, where.host.find(':') != std::string::npos
                                                                  ? "[" + where.host + "]" : where.host, port);
    out.event("listening",
              {{"url", url}, {"address", where.host}, {"port", port}, {"tls", !o.cert.empty()},
               {"subscribers", rows.size()}, {"realm", o.domain}},
              fmt::format("serving licences at {}/license (realm {})", url, o.domain));
    out.flush();
    front.run();
    // Grants still being charged: committed now, their replies dropped with
    // the connections (a client retries with its request id, charged once).
    cdrs.close();
    const auto& stats = service.stats();
    out.event("stopped",
              {{"granted", stats.granted.load()}, {"refused", stats.refused.load()}, {"challenged", stats.challenged.load()},
               {"cdrs", cdrs.rows()}, {"cdr_batches", cdrs.batches()}},
              fmt::format("stopped: {} licences granted, {} refused, {} CDRs in {} batches", stats.granted.load(),
                          stats.refused.load(), cdrs.rows(), cdrs.batches()));
    return Outcome::ok;
}

Outcome run_admin(const AdminOptions& o, cli::Output& out)
{
    const fs::path state = state_dir_of(o.state_dir, "the licence server's state directory");
    if (!fs::exists(state / "license.sqlite"))
        throw Failure(Outcome::usage, fmt::format("{}: no license.sqlite: not a licence server's state directory",
                                                  state.string()));
    LicenseDb db(state / "license.sqlite");
    if (o.action == "credit") {
        db.add_balance(o.subject, o.amount);
        const auto account = db.find_account(o.subject);
        out.event("account", {{"impi", o.subject}, {"balance", account->balance}},
                  fmt::format("{}: balance {}", o.subject, account->balance));
    } else if (o.action == "subscribe") {
        const auto until = o.days > 0 ? std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                                .count() +
                                            static_cast<std::int64_t>(o.days * 86400)
                                      : 0;
        db.set_subscription(o.subject, until);
        out.event("account", {{"impi", o.subject}, {"subscribed_until", until}},
                  until ? fmt::format("{}: subscribed until {} (Unix time)", o.subject, until)
                        : fmt::format("{}: no subscription", o.subject));
    } else if (o.action == "publisher") {
        db.set_publisher(o.subject, !o.revoke);
        out.event("account", {{"impi", o.subject}, {"publisher", !o.revoke}},
                  fmt::format("{}: {} publisher", o.subject, o.revoke ? "no longer a" : "now a"));
    } else if (o.action == "policy") {
        const auto kid = from_hex(o.subject);
        if (!kid || kid->size() != 16)
            throw Failure(Outcome::usage, fmt::format("invalid KID '{}': give 32 hex digits", o.subject));
        const auto policy = parse_policy(o.policy);
        if (!policy)
            throw Failure(Outcome::usage, fmt::format("invalid policy '{}': free, subscription or pay-per-download", o.policy));
        if ((*policy == Policy::pay_per_download) != (o.price > 0))
            throw Failure(Outcome::usage, "--price must be positive for pay-per-download, and is only for it");
        if (!db.set_policy(std::string(kid->begin(), kid->end()), *policy, o.price))
            throw Failure(Outcome::usage, fmt::format("no content with KID {}", o.subject));
        out.event("content", {{"kid", o.subject}, {"policy", o.policy}, {"price", o.price}},
                  fmt::format("KID {}: {} (price {})", o.subject, o.policy, o.price));
    } else {
        for (const auto& a : db.accounts())
            out.event("account",
                      {{"impi", a.impi}, {"balance", a.balance}, {"subscribed_until", a.subscribed_until},
                       {"publisher", a.publisher}},
                      fmt::format("account {}: balance {}, subscribed until {}, {}publisher", a.impi, a.balance,
                                  a.subscribed_until, a.publisher ? "" : "not "));
        for (const auto& c : db.contents()) {
            const std::string kid = to_hex(reinterpret_cast<const std::uint8_t*>(c.kid.data()), c.kid.size());
            out.event("content",
                      {{"kid", kid}, {"content_id", c.content_id}, {"owner", c.owner}, {"policy", policy_name(c.policy)},
                       {"price", c.price}},
                      fmt::format("content {} ({}): owner {}, {} (price {})", kid, c.content_id, c.owner,
                                  policy_name(c.policy), c.price));
        }
    }
    return Outcome::ok;
}

Outcome run_cdr(const AdminOptions& o, cli::Output& out)
{
    const fs::path state = state_dir_of(o.state_dir, "the licence server's state directory");
    if (!fs::exists(state / "license.sqlite"))
        throw Failure(Outcome::usage, fmt::format("{}: no license.sqlite: not a licence server's state directory",
                                                  state.string()));
    LicenseDb db(state / "license.sqlite");
    for (const auto& c : db.cdrs(o.after))
        out.event("cdr",
                  {{"id", c.id}, {"impi", c.impi}, {"content_id", c.content_id}, {"kid", c.kid_hex}, {"policy", c.policy},
                   {"price", c.price}, {"time", c.time}, {"request_id", c.request_id}},
                  fmt::format("{} {} {} {} {} {} {} {}", c.id, c.time, c.impi, c.kid_hex, c.content_id.empty() ? "-" : c.content_id,
                              c.policy, c.price, c.request_id));
    return Outcome::ok;
}

} // namespace imsp2p::license
