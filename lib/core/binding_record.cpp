#include "core/binding_record.hpp"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

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

Bytes encode_binding(const Binding& binding, const std::string& node)
{
    const auto expires = std::chrono::duration_cast<std::chrono::milliseconds>(binding.expires.time_since_epoch()).count();
    const nlohmann::json json = {
        {"contact", binding.contact}, {"expires_ms", expires},       {"instance", binding.instance},
        {"path", binding.path},       {"call_id", binding.call_id},  {"cseq", binding.cseq},
        {"received", binding.received}, {"node", node},
    };
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
        return out;
    } catch (const nlohmann::json::exception&) {
        return std::nullopt; // wrong types
    }
}

} // namespace imsp2p::core
