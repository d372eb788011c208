#include "core/binding_record.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <limits>

namespace imsp2p::core {

std::uint64_t binding_value_id(const std::string& aor, const std::string& contact, const std::string& instance)
{
    const std::string& device = instance.empty() ? contact : instance;
    std::string input = "imsp2p-binding";
    input.push_back('\0');
    input += aor;
    input.push_back('\0');
    input += device;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    EVP_Digest(input.data(), input.size(), md, &size, EVP_sha256(), nullptr);
    std::uint64_t id = 0;
    for (int i = 0; i < 8; ++i)
        id = (id << 8) | md[i];
    return id == 0 ? 1 : id; // 0 is OpenDHT's "no id"
}

HostClock host_clock_now()
{
    // Linux's id of this boot: the same for every process until a reboot
    // (which restarts the monotonic clock). 16 hex digits tell boots apart.
    static const std::string host = [] {
        std::ifstream in("/proc/sys/kernel/random/boot_id");
        std::string id, hex;
        std::getline(in, id);
        for (const char c : id)
            if (std::isxdigit(static_cast<unsigned char>(c)) && hex.size() < 16)
                hex.push_back(c);
        return hex.size() == 16 ? hex : std::string();
    }();
    using std::chrono::milliseconds;
    const auto wall = std::chrono::duration_cast<milliseconds>(Clock::now().time_since_epoch()).count();
    const auto mono = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    return {host, wall - mono};
}

Clock::time_point binding_end_here(const Binding& binding, const HostClock& there, const HostClock& here)
{
    if (here.host.empty() || there.host != here.host)
        return binding.expires;
    // On the shared monotonic clock the binding ends at expires - there.offset,
    // which the wall clock now reads as that + here.offset. Only ever earlier:
    // a forward step ends bindings as their signed time of day says (readers
    // and storing nodes drop a record past it anyway).
    std::int64_t shift_ms = 0;
    if (there.offset_ms <= here.offset_ms)
        return binding.expires;
    const auto expires_ms = std::chrono::duration_cast<std::chrono::milliseconds>(binding.expires.time_since_epoch()).count();
    if (__builtin_sub_overflow(there.offset_ms, here.offset_ms, &shift_ms) || shift_ms >= expires_ms)
        return Clock::time_point{}; // the offsets of another era: long ended
    return Clock::time_point(std::chrono::milliseconds(expires_ms - shift_ms));
}

Bytes encode_binding(const Binding& binding, const std::string& node, const HostClock& clock)
{
    const auto expires = std::chrono::duration_cast<std::chrono::milliseconds>(binding.expires.time_since_epoch()).count();
    nlohmann::json json = {
        {"contact", binding.contact}, {"expires_ms", expires},       {"instance", binding.instance},
        {"path", binding.path},       {"call_id", binding.call_id},  {"cseq", binding.cseq},
        {"received", binding.received}, {"node", node},
    };
    if (!clock.host.empty()) {
        json["host"] = clock.host;
        json["clock_offset_ms"] = clock.offset_ms;
    }
    const auto text = json.dump();
    return Bytes(text.begin(), text.end());
}

Bytes encode_removal(const std::string& node)
{
    const auto text = nlohmann::json{{"removed", true}, {"node", node}}.dump();
    return Bytes(text.begin(), text.end());
}

std::optional<BindingPayload> decode_binding(const Bytes& payload)
{
    const auto json = nlohmann::json::parse(payload.begin(), payload.end(), nullptr, false);
    if (!json.is_object())
        return std::nullopt;
    try {
        BindingPayload out;
        out.node = json.value("node", std::string());
        if (json.value("removed", false)) {
            out.removed = true;
            return out;
        }
        auto& b = out.binding;
        b.contact = json.at("contact").get<std::string>();
        if (b.contact.empty())
            return std::nullopt;
        // Clock counts nanoseconds in 64 bits: a value beyond its range
        // (year 2262) would overflow on conversion, so it is malformed.
        // Integers only: converting a float out of range is undefined.
        const auto& expires_json = json.at("expires_ms");
        const auto cseq_json = json.value("cseq", nlohmann::json(std::uint64_t{0}));
        if (!expires_json.is_number_integer() || !cseq_json.is_number_unsigned() ||
            cseq_json.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max())
            return std::nullopt;
        const auto expires_ms = expires_json.get<std::int64_t>();
        constexpr auto max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::duration::max()).count();
        if (expires_ms < 0 || expires_ms > max_ms)
            return std::nullopt;
        b.expires = Clock::time_point(std::chrono::milliseconds(expires_ms));
        b.instance = json.value("instance", std::string());
        b.path = json.value("path", std::vector<std::string>());
        b.call_id = json.value("call_id", std::string());
        b.cseq = static_cast<std::uint32_t>(cseq_json.get<std::uint64_t>());
        b.received = json.value("received", std::string());
        const auto offset_json = json.value("clock_offset_ms", nlohmann::json());
        if (offset_json.is_number_integer()) {
            out.written_on.host = json.value("host", std::string());
            out.written_on.offset_ms = offset_json.get<std::int64_t>();
        }
        return out;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // wrong types
    }
}

} // namespace imsp2p::core
