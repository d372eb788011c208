#include "core/shedder.hpp"

#include "cli/outcome.hpp"
#include "core/sip_request.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace imsp2p::core {
namespace {

// Credentials with a response: the answer to a challenge (the IMS initial
// REGISTER carries an Authorization with an empty response).
bool answers_challenge(const msg_auth_t* chain)
{
    for (const msg_auth_t* auth = chain; auth; auth = auth->au_next)
        if (!param(auth->au_params, "response=").empty())
            return true;
    return false;
}

} // namespace

void check_shed_options(const ShedOptions& o)
{
    if (!std::isfinite(o.max_rate) || o.max_rate < 0)
        throw Failure(Outcome::usage, fmt::format("invalid --max-rate {}: give initial requests per second, 0 for no cap", o.max_rate));
    if (!std::isfinite(o.threshold) || o.threshold <= 0 || o.threshold > 1)
        throw Failure(Outcome::usage, fmt::format("invalid --overload-threshold {}: give a fraction of --max-rate in (0, 1]", o.threshold));
    if (o.retry_after == 0 || o.retry_after > 3600)
        throw Failure(Outcome::usage, fmt::format("invalid --retry-after {}: give 1 to 3600 seconds", o.retry_after));
}

Shedder::Shedder(ShedOptions options, std::string self_node) : options_(options), self_(std::move(self_node)) {}

bool Shedder::overloaded(Clock::time_point now)
{
    if (options_.max_rate <= 0)
        return false;
    return shed_.in_window(now) > 0 ||
           static_cast<double>(served_.in_window(now)) >= options_.threshold * options_.max_rate;
}

Shedder::Verdict Shedder::admit(bool is_register, bool fresh, Clock::time_point now)
{
    Verdict out;
    if (!fresh) // the rest of work started here: served, and counted when it started
        return out;
    const double limit = options_.threshold * options_.max_rate;
    if (options_.max_rate > 0 && static_cast<double>(served_.in_window(now) + 1) > limit) {
        shed_.add(now);
        if (is_register) {
            auto peers = this->peers();
            std::erase_if(peers, [this](const CoreLoad& load) {
                return load.node == self_ || load.overloaded || load.utilisation() >= 0.9;
            });
            std::sort(peers.begin(), peers.end(),
                      [](const CoreLoad& a, const CoreLoad& b) { return a.utilisation() < b.utilisation(); });
            for (const auto& peer : peers)
                if (out.alternatives.size() < options_.max_alternatives)
                    out.alternatives.push_back(peer.sip);
        }
        out.decision = out.alternatives.empty() ? Decision::reject : Decision::redirect;
        ++(out.decision == Decision::reject ? rejected_ : redirected_);
        return out;
    }
    served_.add(now);
    peak_ = std::max(peak_, served_.in_window(now));
    return out;
}

bool Shedder::handle(nta_incoming_s*& irq, const sip_s* sip)
{
    const sip_method_t method = sip->sip_request->rq_method;
    if (method == sip_method_ack || method == sip_method_cancel)
        return false;
    if (sip->sip_to && sip->sip_to->a_tag) // inside a dialog: always served, not counted
        return false;
    const url_t* uri = sip->sip_request->rq_url;
    if (method == sip_method_options && (!uri->url_user || !*uri->url_user)) // a probe of the node
        return false;
    const bool is_register = method == sip_method_register;
    const bool fresh = !answers_challenge(is_register ? sip->sip_authorization : sip->sip_proxy_authorization);
    const auto verdict = admit(is_register, fresh, Clock::now());
    if (verdict.decision == Decision::serve)
        return false;
    if (verdict.decision == Decision::redirect) {
        // Highest q first: the least loaded; the UE picks among them.
        std::string contacts;
        for (std::size_t i = 0; i < verdict.alternatives.size(); ++i)
            contacts += fmt::format("{}<{}>;q={:.1f}", i ? ", " : "", verdict.alternatives[i], 1.0 - 0.1 * static_cast<double>(i));
        answer(irq, SIP_302_MOVED_TEMPORARILY, SIPTAG_CONTACT_STR(contacts.c_str()));
        return true;
    }
    const std::string retry = std::to_string(options_.retry_after);
    answer(irq, SIP_503_SERVICE_UNAVAILABLE, SIPTAG_RETRY_AFTER_STR(retry.c_str()));
    return true;
}

void Shedder::set_peers(std::vector<CoreLoad> loads)
{
    std::lock_guard lock(mutex_);
    peers_ = std::move(loads);
}

std::vector<CoreLoad> Shedder::peers() const
{
    std::lock_guard lock(mutex_);
    return peers_;
}

} // namespace imsp2p::core
