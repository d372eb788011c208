#include "swarm/clearkey_license.hpp"

#include "cli/outcome.hpp"
#include "util/base64.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace imsp2p::swarm {

std::string base64url_encode(const std::uint8_t* data, std::size_t size)
{
    std::string text = base64_encode(data, size);
    while (!text.empty() && text.back() == '=')
        text.pop_back();
    std::replace(text.begin(), text.end(), '+', '-');
    std::replace(text.begin(), text.end(), '/', '_');
    return text;
}

std::optional<std::vector<std::uint8_t>> base64url_decode(std::string_view text)
{
    std::string standard(text);
    if (standard.find_first_of("+/") != std::string::npos)
        return std::nullopt;
    std::replace(standard.begin(), standard.end(), '-', '+');
    std::replace(standard.begin(), standard.end(), '_', '/');
    if (standard.find('=') == std::string::npos)
        standard.append((4 - standard.size() % 4) % 4, '=');
    return base64_decode(standard);
}

std::string license_json(const std::vector<LicenseKey>& keys)
{
    nlohmann::ordered_json set;
    set["keys"] = nlohmann::ordered_json::array();
    for (const auto& entry : keys) {
        nlohmann::ordered_json jwk;
        jwk["kty"] = "oct";
        jwk["kid"] = base64url_encode(entry.kid.data(), entry.kid.size());
        jwk["k"] = base64url_encode(entry.key.data(), entry.key.size());
        set["keys"].push_back(jwk);
    }
    return set.dump() + "\n";
}

std::vector<LicenseKey> parse_license(std::string_view json, const std::string& source)
{
    auto bad = [&](const std::string& reason) {
        return Failure(Outcome::usage, fmt::format("{}: not a Clear Key licence: {}", source, reason));
    };
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(json);
    } catch (const nlohmann::json::parse_error& error) {
        throw bad(fmt::format("invalid JSON at byte {}", error.byte));
    } catch (const nlohmann::json::exception&) {
        throw bad("invalid JSON (a number out of range)"); // out_of_range 406, e.g. 9e902
    }
    if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array())
        throw bad("no \"keys\" array");
    std::vector<LicenseKey> keys;
    std::size_t index = 0;
    for (const auto& jwk : doc["keys"]) {
        const std::string where = fmt::format("keys[{}]", index++);
        if (!jwk.is_object())
            throw bad(where + " is not an object");
        if (jwk.value("kty", "") != "oct")
            throw bad(where + ": kty is not \"oct\"");
        auto field = [&](const char* name, std::size_t size) {
            if (!jwk.contains(name) || !jwk[name].is_string())
                throw bad(fmt::format("{}: no \"{}\" string", where, name));
            auto bytes = base64url_decode(jwk[name].get<std::string>());
            if (!bytes)
                throw bad(fmt::format("{}: \"{}\" is not base64url", where, name));
            if (bytes->size() != size)
                throw bad(fmt::format("{}: \"{}\" has {} bytes, not {}", where, name, bytes->size(), size));
            return *bytes;
        };
        LicenseKey entry;
        const auto kid = field("kid", kid_size);
        const auto key = field("k", key_size);
        std::copy(kid.begin(), kid.end(), entry.kid.begin());
        std::copy(key.begin(), key.end(), entry.key.begin());
        keys.push_back(entry);
    }
    if (keys.empty())
        throw bad("the \"keys\" array is empty");
    return keys;
}

std::vector<LicenseKey> read_license_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_license(text.str(), file.string());
}

std::optional<Key> find_key(const std::vector<LicenseKey>& keys, const Kid& kid)
{
    for (const auto& entry : keys)
        if (entry.kid == kid)
            return entry.key;
    return std::nullopt;
}

} // namespace imsp2p::swarm
