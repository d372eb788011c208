#include "probe/dht_find.hpp"

#include "cli/outcome.hpp"
#include "dht/overlay_node.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <msgpack.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

namespace imsp2p::probe {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t id_size = 20;
constexpr std::size_t node4_size = id_size + 4 + 2; // id, IPv4 address, port: OpenDHT's compact node info
constexpr std::size_t window = 256;                 // finds unanswered at once

std::string hex_of(const char* data, std::size_t size)
{
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < size; ++i) {
        const auto byte = static_cast<unsigned char>(data[i]);
        out += digits[byte >> 4];
        out += digits[byte & 15];
    }
    return out;
}

std::string bytes_of(const std::string& hex)
{
    std::string out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    return out;
}

const msgpack::object* member(const msgpack::object& map, const char* key)
{
    if (map.type != msgpack::type::MAP)
        return nullptr;
    for (std::uint32_t i = 0; i < map.via.map.size; ++i) {
        const auto& kv = map.via.map.ptr[i];
        if (kv.key.type == msgpack::type::STR && kv.key.via.str.size == std::strlen(key) &&
            std::memcmp(kv.key.via.str.ptr, key, kv.key.via.str.size) == 0)
            return &kv.val;
    }
    return nullptr;
}

bool is_bin(const msgpack::object* o, std::size_t size = 0)
{
    return o && o->type == msgpack::type::BIN && (size == 0 || o->via.bin.size == size);
}

// One reply: its transaction id and what it says; nullopt for anything else.
std::optional<std::pair<std::uint32_t, FindAnswer>> parse_reply(const char* data, std::size_t size, std::uint32_t network_id)
{
    try {
        const auto handle = msgpack::unpack(data, size);
        const auto& message = handle.get();
        const auto* tid = member(message, "t");
        const auto* network = member(message, "n");
        if (network_id != 0 && (!network || network->type != msgpack::type::POSITIVE_INTEGER || network->via.u64 != network_id))
            return std::nullopt;
        // OpenDHT 2.4 reads a 4-byte transaction id big-endian and answers with it as an integer.
        std::uint32_t t = 0;
        if (tid && tid->type == msgpack::type::POSITIVE_INTEGER && tid->via.u64 <= UINT32_MAX)
            t = static_cast<std::uint32_t>(tid->via.u64);
        else if (is_bin(tid, 4))
            t = ntohl(*reinterpret_cast<const std::uint32_t*>(tid->via.bin.ptr));
        else
            return std::nullopt;
        FindAnswer answer;
        answer.answered = true;
        if (const auto* reply = member(message, "r")) {
            if (const auto* id = member(*reply, "id"); is_bin(id, id_size))
                answer.id = hex_of(id->via.bin.ptr, id_size);
            if (const auto* nodes = member(*reply, "n4"); is_bin(nodes)) {
                for (std::size_t at = 0; at + node4_size <= nodes->via.bin.size; at += node4_size) {
                    const char* p = nodes->via.bin.ptr + at;
                    in_addr address{};
                    std::memcpy(&address, p + id_size, 4);
                    std::uint16_t port = 0;
                    std::memcpy(&port, p + id_size + 4, 2);
                    char text[INET_ADDRSTRLEN] = {};
                    inet_ntop(AF_INET, &address, text, sizeof text);
                    answer.nodes.push_back({hex_of(p, id_size), fmt::format("{}:{}", text, ntohs(port))});
                }
            }
        } else if (!member(message, "e")) {
            return std::nullopt; // a request, not an answer
        }
        return std::make_pair(t, std::move(answer));
    } catch (const std::exception&) {
        return std::nullopt; // not msgpack, or not OpenDHT's
    }
}

} // namespace

DhtFinder::DhtFinder(const std::string& bind, std::uint32_t network_id) : network_id_(network_id), id_(random_bytes(id_size))
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    if (inet_pton(AF_INET, bind.c_str(), &sin.sin_addr) != 1)
        throw Failure(Outcome::usage, fmt::format("--bind '{}' is not an IPv4 address", bind));
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&sin), sizeof sin) != 0) {
        const auto why = std::strerror(errno);
        if (fd_ >= 0)
            ::close(fd_);
        throw Failure(Outcome::local, fmt::format("cannot bind the crawler's UDP socket on {}: {}", bind, why));
    }
    const int buffer = 1 << 20; // a window of answers arrives at once
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
}

DhtFinder::~DhtFinder()
{
    ::close(fd_);
}

std::vector<FindAnswer> DhtFinder::find_all(const std::vector<FindQuery>& queries, std::chrono::milliseconds wait,
                                            unsigned attempts, Clock::time_point deadline)
{
    struct State {
        sockaddr_in to{};
        std::string request;
        unsigned tries = 0;
        Clock::time_point sent;
        bool done = false;
    };
    std::vector<State> states(queries.size());
    for (std::size_t i = 0; i < queries.size(); ++i) {
        states[i].to = ipv4_peer(queries[i].address);
        // {"a":{"id","target","w":[AF_INET]},"q":"find","t","y":"q","v","s","n"}, as OpenDHT's NetworkEngine
        // sends it; "s" marks a client node, which OpenDHT 2.4 answers but keeps out of its routing table.
        const auto target = bytes_of(queries[i].target_hex);
        const auto tid = htonl(static_cast<std::uint32_t>(i));
        msgpack::sbuffer buffer;
        msgpack::packer<msgpack::sbuffer> pk(&buffer);
        pk.pack_map(network_id_ ? 7 : 6);
        pk.pack(std::string("a"));
        pk.pack_map(3);
        pk.pack(std::string("id"));
        pk.pack_bin(id_size);
        pk.pack_bin_body(id_.data(), id_size);
        pk.pack(std::string("target"));
        pk.pack_bin(id_size);
        pk.pack_bin_body(target.data(), id_size);
        pk.pack(std::string("w"));
        pk.pack_array(1);
        pk.pack(static_cast<int>(AF_INET));
        pk.pack(std::string("q"));
        pk.pack(std::string("find"));
        pk.pack(std::string("t"));
        pk.pack_bin(4);
        pk.pack_bin_body(reinterpret_cast<const char*>(&tid), 4);
        pk.pack(std::string("y"));
        pk.pack(std::string("q"));
        pk.pack(std::string("v"));
        pk.pack(std::string("imsp2p-probe"));
        pk.pack(std::string("s"));
        pk.pack(true);
        if (network_id_) {
            pk.pack(std::string("n"));
            pk.pack(network_id_);
        }
        states[i].request.assign(buffer.data(), buffer.size());
    }
    std::vector<FindAnswer> answers(queries.size());
    std::vector<std::size_t> waiting;
    std::size_t next = 0, finished = 0;
    auto send = [&](std::size_t i) {
        auto& s = states[i];
        ::sendto(fd_, s.request.data(), s.request.size(), 0, reinterpret_cast<const sockaddr*>(&s.to), sizeof s.to);
        ++s.tries;
        ++sent_;
        s.sent = Clock::now();
    };
    char buffer[65536];
    while (finished < queries.size() && Clock::now() < deadline) {
        while (waiting.size() < window && next < queries.size()) {
            send(next);
            waiting.push_back(next++);
        }
        pollfd p{fd_, POLLIN, 0};
        ::poll(&p, 1, 5);
        for (;;) {
            const auto got = ::recv(fd_, buffer, sizeof buffer, 0);
            if (got <= 0)
                break;
            auto reply = parse_reply(buffer, static_cast<std::size_t>(got), network_id_);
            if (!reply || reply->first >= queries.size() || states[reply->first].done)
                continue;
            states[reply->first].done = true;
            answers[reply->first] = std::move(reply->second);
        }
        const auto now = Clock::now();
        std::erase_if(waiting, [&](std::size_t i) {
            auto& s = states[i];
            if (!s.done && now - s.sent >= wait) {
                if (s.tries < attempts) {
                    send(i);
                    return false;
                }
                s.done = true; // no answer: it stays answered == false
            }
            if (s.done)
                ++finished;
            return s.done;
        });
    }
    return answers;
}

} // namespace imsp2p::probe
