#include "call/precondition.hpp"

#include <fmt/format.h>

#include <sstream>
#include <strings.h>

namespace imsp2p::call {
namespace {

// "curr:qos local sendrecv" -> {"curr:qos", "local", "sendrecv"}; des lines have the strength first.
std::vector<std::string> words(const std::string& line)
{
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string word; in >> word;)
        out.push_back(word);
    return out;
}

bool same(const std::string& a, const char* b)
{
    return strcasecmp(a.c_str(), b) == 0;
}

} // namespace

std::string qos_attributes(const QosStatus& status, bool confirm)
{
    auto state = [](bool reserved) { return reserved ? "sendrecv" : "none"; };
    std::string lines = fmt::format("a=curr:qos local {}\r\na=curr:qos remote {}\r\n"
                                    "a=des:qos mandatory local sendrecv\r\na=des:qos mandatory remote sendrecv\r\n",
                                    state(status.local), state(status.remote));
    if (confirm)
        lines += "a=conf:qos remote sendrecv\r\n";
    return lines;
}

bool wants_preconditions(const RemoteMedia& remote)
{
    for (const auto& line : remote.qos) {
        const auto w = words(line);
        if (w.size() == 4 && same(w[0], "des:qos") && same(w[1], "mandatory"))
            return true;
    }
    return false;
}

QosStatus peer_status(const RemoteMedia& remote)
{
    QosStatus status;
    for (const auto& line : remote.qos) {
        const auto w = words(line);
        if (w.size() != 3 || !same(w[0], "curr:qos"))
            continue;
        const bool reserved = same(w[2], "sendrecv");
        if (same(w[1], "local"))
            status.remote = reserved;
        else if (same(w[1], "remote"))
            status.local = reserved;
    }
    return status;
}

} // namespace imsp2p::call
