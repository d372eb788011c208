#include "core/load_record.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace imsp2p::core {
namespace {

constexpr std::size_t max_text = 255;

std::string invalid_field(const CoreLoad& load)
{
    if (load.node.empty() || load.node.size() > max_text)
        return "node name is not 1-255 bytes";
    if (!load.sip.starts_with("sip:") || load.sip.size() > max_text)
        return "sip is not a sip: URI of at most 255 bytes";
    for (double value : {load.rate, load.cap, load.cpu})
        if (!std::isfinite(value) || value < 0)
            return "rate, cap and cpu must be finite and not negative";
    return {};
}

std::optional<CoreLoad> load_of(const Bytes& payload)
{
    const auto json = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
    if (!json.is_object())
        return std::nullopt;
    try {
        CoreLoad load;
        load.node = json.at("node").get<std::string>();
        load.sip = json.at("sip").get<std::string>();
        load.rate = json.at("rate").get<double>();
        load.cap = json.at("cap").get<double>();
        load.registrations = json.at("registrations").get<std::uint64_t>();
        load.cpu = json.at("cpu").get<double>();
        load.overloaded = json.at("overloaded").get<bool>();
        load.timestamp_ms = json.at("ts").get<std::int64_t>();
        return load;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt;
    }
}

} // namespace

double CoreLoad::utilisation() const
{
    const double used = cap > 0 ? rate / cap : cpu;
    return std::clamp(used, 0.0, 1.0);
}

Bytes sign_load(const dht::Credential& credential, const CoreLoad& load, std::int64_t expires)
{
    if (const auto why = invalid_field(load); !why.empty())
        throw Failure(Outcome::usage, fmt::format("load record of {}: {}", load.node, why));
    if (load.node != credential.name())
        throw Failure(Outcome::usage, fmt::format("load record of {} signed by {}", load.node, credential.name()));
    const nlohmann::json json{{"node", load.node},   {"sip", load.sip},
                              {"rate", load.rate},   {"cap", load.cap},
                              {"registrations", load.registrations},
                              {"cpu", load.cpu},     {"overloaded", load.overloaded},
                              {"ts", load.timestamp_ms}};
    const std::string text = json.dump();
    dht::ContentEnvelope envelope;
    envelope.key = std::string(core_load_key);
    envelope.payload.assign(text.begin(), text.end());
    envelope.seq = static_cast<std::uint64_t>(load.timestamp_ms);
    envelope.expires = expires;
    return dht::sign_content_envelope(credential, std::move(envelope));
}

LoadChecked check_load(const dht::ContentVerifier& verifier, std::span<const std::uint8_t> data, std::time_t now)
{
    LoadChecked out;
    dht::ContentEnvelope envelope;
    const auto checked = verifier.check_envelope(data, now, max_load_lifetime, envelope);
    out.verdict = checked.verdict;
    out.why = checked.why;
    out.signer = checked.publisher;
    if (!checked.ok())
        return out;
    out.verdict = dht::ContentVerdict::malformed;
    if (envelope.key != core_load_key) {
        out.verdict = dht::ContentVerdict::wrong_key;
        out.why = fmt::format("written for {}", envelope.key);
        return out;
    }
    auto load = load_of(envelope.payload);
    if (!load) {
        out.why = "payload is not a load record's JSON";
        return out;
    }
    if (auto why = invalid_field(*load); !why.empty()) {
        out.why = std::move(why);
        return out;
    }
    if (load->node != out.signer) {
        out.why = fmt::format("payload names node '{}', the certificate '{}'", load->node, out.signer);
        return out;
    }
    load->expires = envelope.expires;
    out.load = std::move(*load);
    out.verdict = dht::ContentVerdict::ok;
    return out;
}

std::uint64_t load_value_id(std::string_view node)
{
    return dht::content_value_id(node, core_load_key);
}

std::vector<CoreLoad> newest_loads(const dht::ContentVerifier& verifier, const std::vector<Bytes>& values, std::time_t now,
                                   std::vector<LoadChecked>* refused)
{
    std::map<std::string, CoreLoad> newest;
    for (const auto& value : values) {
        auto checked = check_load(verifier, value, now);
        if (!checked.ok()) {
            if (refused)
                refused->push_back(std::move(checked));
            continue;
        }
        auto& slot = newest[checked.load.node];
        if (slot.node.empty() || checked.load.timestamp_ms > slot.timestamp_ms)
            slot = std::move(checked.load);
    }
    std::vector<CoreLoad> out;
    for (auto& [node, load] : newest)
        out.push_back(std::move(load));
    return out;
}

std::function<std::optional<dht::OverlayConfig::SlotCheck>(std::span<const std::uint8_t>)>
load_store_check(std::shared_ptr<const dht::ContentVerifier> verifier)
{
    return [verifier](std::span<const std::uint8_t> data) -> std::optional<dht::OverlayConfig::SlotCheck> {
        auto checked = check_load(*verifier, data, std::time(nullptr));
        if (!checked.ok())
            return std::nullopt;
        return dht::OverlayConfig::SlotCheck{std::string(core_load_key), checked.load.node,
                                             static_cast<std::uint64_t>(checked.load.timestamp_ms)};
    };
}

nlohmann::json load_json(const CoreLoad& load)
{
    auto round = [](double value) { return std::round(value * 1000) / 1000; };
    return {{"node", load.node},
            {"sip", load.sip},
            {"rate", round(load.rate)},
            {"cap", load.cap > 0 ? nlohmann::json(round(load.cap)) : nlohmann::json()},
            {"registrations", load.registrations},
            {"cpu", round(load.cpu)},
            {"utilisation", round(load.utilisation())},
            {"overloaded", load.overloaded},
            {"timestamp_ms", load.timestamp_ms},
            {"expires", load.expires}};
}

} // namespace imsp2p::core
