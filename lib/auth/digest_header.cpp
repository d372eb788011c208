#include "auth/digest_header.hpp"

#include <algorithm>
#include <cctype>

namespace imsp2p::auth {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string lower(std::string_view text)
{
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

} // namespace

std::optional<std::map<std::string, std::string>> parse_digest_params(std::string_view header)
{
    size_t i = 0;
    while (i < header.size() && is_space(header[i]))
        ++i;
    if (lower(header.substr(i, 6)) != "digest" || (i + 6 < header.size() && !is_space(header[i + 6])))
        return std::nullopt;
    i += 6;
    std::map<std::string, std::string> params;
    while (true) {
        while (i < header.size() && (is_space(header[i]) || header[i] == ','))
            ++i;
        if (i >= header.size())
            return params;
        const size_t name_start = i;
        while (i < header.size() && header[i] != '=' && header[i] != ',' && !is_space(header[i]))
            ++i;
        const std::string name = lower(header.substr(name_start, i - name_start));
        while (i < header.size() && is_space(header[i]))
            ++i;
        if (name.empty() || i >= header.size() || header[i] != '=')
            return std::nullopt;
        ++i;
        while (i < header.size() && is_space(header[i]))
            ++i;
        std::string value;
        if (i < header.size() && header[i] == '"') {
            ++i;
            bool closed = false;
            while (i < header.size()) {
                const char c = header[i++];
                if (c == '"') {
                    closed = true;
                    break;
                }
                if (c == '\\' && i < header.size())
                    value += header[i++];
                else
                    value += c;
            }
            if (!closed)
                return std::nullopt;
        } else {
            const size_t value_start = i;
            while (i < header.size() && header[i] != ',' && !is_space(header[i]))
                ++i;
            value = std::string(header.substr(value_start, i - value_start));
        }
        params[name] = std::move(value);
    }
}

std::optional<Challenge> parse_challenge(std::string_view header)
{
    const auto params = parse_digest_params(header);
    if (!params || !params->contains("realm") || !params->contains("nonce"))
        return std::nullopt;
    auto get = [&](const char* name) {
        const auto it = params->find(name);
        return it == params->end() ? std::string() : it->second;
    };
    Challenge challenge;
    challenge.realm = get("realm");
    challenge.nonce = get("nonce");
    challenge.opaque = get("opaque");
    challenge.algorithm = get("algorithm");
    const auto algorithm = parse_digest_algorithm(challenge.algorithm);
    if (!algorithm)
        return std::nullopt;
    challenge.parsed_algorithm = *algorithm;
    challenge.stale = lower(get("stale")) == "true";
    // qop is a quoted list such as "auth,auth-int".
    const std::string qop = get("qop");
    size_t start = 0;
    while (start <= qop.size()) {
        size_t end = std::min(qop.find(',', start), qop.size());
        std::string item(qop.substr(start, end - start));
        item.erase(std::remove_if(item.begin(), item.end(), [](char c) { return is_space(c); }), item.end());
        challenge.qop_auth = challenge.qop_auth || item == "auth";
        start = end + 1;
    }
    return challenge;
}

} // namespace imsp2p::auth
