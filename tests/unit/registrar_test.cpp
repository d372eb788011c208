// The registrar on a real SipStack (127.0.40.0/24), driven by a plain UDP
// socket in the same thread: requests written by hand, well formed or not.
#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "core/registrar.hpp"
#include "core/request_router.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"
#include "test_support.hpp"
#include "util/base64.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <regex>

using namespace imsp2p;
using namespace imsp2p::core;

namespace {

constexpr const char* node_address = "127.0.40.1";
constexpr const char* client_address = "127.0.40.2";

struct Node {
    test::TempDir dir;
    hss::SubscriberStore store{dir.path() / "hss.sqlite"};
    MemoryLocation location;
    sip::SipStack stack{[] {
        sip::StackConfig config;
        config.host = node_address;
        return config;
    }()};
    std::vector<RegistrarEvent> events;
    std::unique_ptr<Registrar> registrar;
    std::unique_ptr<RequestRouter> router;

    explicit Node(RegistrarConfig config = {})
    {
        store.import(test::rows(fmt::format("alice@ims.test,sip:alice@ims.test;tel:+15550100,md5,alice-secret,,,,,\n"
                                            "bob@ims.test,sip:bob@ims.test,aka,,{},{},,8000,000000000040\n",
                                            test::test_k, test::test_op)));
        config.auth.realm = "ims.test";
        registrar = std::make_unique<Registrar>(stack, store, location, config,
                                                [this](const RegistrarEvent& event) { events.push_back(event); });
        router = std::make_unique<RequestRouter>(stack, *registrar);
    }
};

// A SIP client of one UDP socket; the node's event loop runs while it waits.
class Client {
public:
    explicit Client(Node& node) : node_(node)
    {
        fd_ = socket(AF_INET, SOCK_DGRAM, 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        inet_pton(AF_INET, client_address, &local.sin_addr);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
        socklen_t length = sizeof local;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
        port_ = ntohs(local.sin_port);
    }
    ~Client() { close(fd_); }

    // Sends a request (\n line ends; {port} and {branch} filled in) and
    // returns the final response, or "" after 2 s.
    std::string send(std::string request)
    {
        request = std::regex_replace(request, std::regex("\\{port\\}"), std::to_string(port_));
        request = std::regex_replace(request, std::regex("\\{branch\\}"), "z9hG4bK" + std::to_string(++branch_));
        request = std::regex_replace(request, std::regex("\n"), "\r\n");
        sockaddr_in node{};
        node.sin_family = AF_INET;
        node.sin_port = htons(static_cast<std::uint16_t>(node_.stack.local_port()));
        inet_pton(AF_INET, node_address, &node.sin_addr);
        sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<sockaddr*>(&node), sizeof node);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
        while (std::chrono::steady_clock::now() < deadline) {
            su_root_step(node_.stack.root(), 5);
            char buffer[65536];
            const ssize_t size = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
            if (size > 0 && std::string(buffer, 12) != "SIP/2.0 100 ")
                return std::string(buffer, static_cast<size_t>(size));
        }
        return {};
    }

private:
    Node& node_;
    int fd_ = -1;
    unsigned port_ = 0;
    unsigned branch_ = 0;
};

int status_of(const std::string& response)
{
    return response.size() > 12 ? std::stoi(response.substr(8, 3)) : 0;
}

// Every value of a header, one per header line.
std::vector<std::string> headers(const std::string& response, const std::string& name)
{
    std::vector<std::string> out;
    const std::regex line("(^|\r\n)" + name + ": ([^\r]*)", std::regex::icase);
    for (auto it = std::sregex_iterator(response.begin(), response.end(), line); it != std::sregex_iterator(); ++it)
        out.push_back((*it)[2].str());
    return out;
}

std::string param(const std::string& header, const std::string& name)
{
    std::smatch match;
    return std::regex_search(header, match, std::regex(name + R"(=\"?([^\",]*)\"?)")) ? match[1].str() : std::string();
}

std::string register_request(const std::string& to, int cseq, const std::string& extra)
{
    return fmt::format("REGISTER sip:ims.test SIP/2.0\n"
                       "Via: SIP/2.0/UDP {}:{{port}};branch={{branch}}\n"
                       "From: <{}>;tag=t1\nTo: <{}>\nCall-ID: call-1@test\nCSeq: {} REGISTER\nMax-Forwards: 70\n"
                       "{}Content-Length: 0\n\n",
                       client_address, to, to, cseq, extra);
}

std::string authorization(const std::string& challenge, const std::string& username, const std::string& password,
                          unsigned nc = 1, const std::string& auts = {})
{
    auth::Challenge parsed;
    parsed.realm = param(challenge, "realm");
    parsed.nonce = param(challenge, "nonce");
    parsed.algorithm = param(challenge, "algorithm");
    parsed.parsed_algorithm = *auth::parse_digest_algorithm(parsed.algorithm);
    parsed.qop_auth = true;
    return "Authorization: " +
           auth::digest_credentials(parsed, {username, password, "REGISTER", "sip:ims.test", "c0ffee", nc, auts}) + "\n";
}

// REGISTER with `extra` headers, challenged then answered with alice's password.
std::string register_alice(Client& client, const std::string& extra, int& cseq, const std::string& password = "alice-secret")
{
    const auto challenge = client.send(register_request("sip:alice@ims.test", cseq++, extra));
    REQUIRE(status_of(challenge) == 401);
    const auto www = headers(challenge, "WWW-Authenticate");
    REQUIRE(!www.empty());
    return client.send(register_request("sip:alice@ims.test", cseq++, extra + authorization(www[0], "alice@ims.test", password)));
}

} // namespace

TEST_CASE("OPTIONS is answered 200, other methods 405 or 501")
{
    Node node;
    Client client(node);
    const auto request = [](const std::string& method) {
        return fmt::format("{0} sip:ims.test SIP/2.0\nVia: SIP/2.0/UDP {1}:{{port}};branch={{branch}}\nFrom: <sip:x@ims.test>;tag=1\n"
                           "To: <sip:ims.test>\nCall-ID: o@test\nCSeq: 1 {0}\nMax-Forwards: 70\nContent-Length: 0\n\n",
                           method, client_address);
    };
    const auto options = client.send(request("OPTIONS"));
    CHECK(status_of(options) == 200);
    CHECK(headers(options, "Allow") == std::vector<std::string>{"REGISTER, OPTIONS"});
    CHECK(status_of(client.send(request("MESSAGE"))) == 405);
    CHECK(status_of(client.send(request("BREW"))) == 501);
}

TEST_CASE("REGISTER: challenge, 200 with bindings, Service-Route, P-Associated-URI, Path and GRUUs")
{
    Node node;
    Client client(node);
    int cseq = 1;
    const std::string contact = "Contact: <sip:alice@127.0.40.2:5070>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\"\n"
                                "Expires: 120\nSupported: path, gruu\nPath: <sip:pcscf.ims.test;lr>\n";
    const auto ok = register_alice(client, contact, cseq);
    REQUIRE(status_of(ok) == 200);
    const auto contacts = headers(ok, "Contact");
    REQUIRE(contacts.size() == 1);
    CHECK(contacts[0].starts_with("<sip:alice@127.0.40.2:5070>;expires=120;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-000000000001>\""));
    CHECK(param(contacts[0], "pub-gruu") == "sip:alice@ims.test;gr=urn:uuid:00000000-0000-0000-0000-000000000001");
    CHECK(std::regex_match(param(contacts[0], "temp-gruu"), std::regex("sip:tgruu\\.[0-9a-f]{20}@ims\\.test;gr")));
    CHECK(headers(ok, "Service-Route") ==
          std::vector<std::string>{fmt::format("<sip:orig@127.0.40.1:{};lr>", node.stack.local_port())});
    CHECK(headers(ok, "P-Associated-URI") == std::vector<std::string>{"<sip:alice@ims.test>, <tel:+15550100>"});
    CHECK(headers(ok, "Path") == std::vector<std::string>{"<sip:pcscf.ims.test;lr>"});
    CHECK(headers(ok, "Date").size() == 1);

    REQUIRE(node.events.size() == 1);
    CHECK(node.events[0].kind == RegistrarEvent::Kind::registered);
    CHECK(node.events[0].impi == "alice@ims.test");
    CHECK(node.events[0].algorithm == "MD5");
    REQUIRE(node.events[0].bindings.size() == 1);
    CHECK(node.events[0].bindings[0].path == std::vector<std::string>{"<sip:pcscf.ims.test;lr>"});
    CHECK(node.events[0].bindings[0].received.starts_with("udp:127.0.40.2:"));
}

TEST_CASE("REGISTER: expiry clamped to the maximum, 423 below the minimum, * removes all, a query lists")
{
    RegistrarConfig config;
    config.min_expires = 60;
    config.max_expires = 600;
    Node node(config);
    Client client(node);
    int cseq = 1;
    const auto too_brief = register_alice(client, "Contact: <sip:alice@127.0.40.2:5070>;expires=30\n", cseq);
    CHECK(status_of(too_brief) == 423);
    CHECK(headers(too_brief, "Min-Expires") == std::vector<std::string>{"60"});

    const auto ok = register_alice(client, "Contact: <sip:alice@127.0.40.2:5070>;expires=99999\n", cseq);
    REQUIRE(status_of(ok) == 200);
    CHECK(param(headers(ok, "Contact")[0], "expires") == "600");
    REQUIRE(status_of(register_alice(client, "Contact: <sip:alice@127.0.40.2:5071>\n", cseq)) == 200);

    const auto query = register_alice(client, "", cseq);
    REQUIRE(status_of(query) == 200);
    const auto listed = headers(query, "Contact");
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].starts_with("<sip:alice@127.0.40.2:5070>;expires="));
    CHECK(listed[1].starts_with("<sip:alice@127.0.40.2:5071>;expires="));

    CHECK(status_of(register_alice(client, "Contact: *\n", cseq)) == 400); // * needs Expires: 0
    const auto removed = register_alice(client, "Contact: *\nExpires: 0\n", cseq);
    CHECK(status_of(removed) == 200);
    CHECK(headers(removed, "Contact").empty());
    CHECK(node.events.back().kind == RegistrarEvent::Kind::unregistered);
    CHECK(node.location.size() == 0);
}

TEST_CASE("REGISTER: an older CSeq of the same Call-ID does not undo a newer one")
{
    Node node;
    Client client(node);
    int cseq = 10;
    REQUIRE(status_of(register_alice(client, "Contact: <sip:alice@127.0.40.2:5070>\n", cseq)) == 200);
    int older = 5;
    CHECK(status_of(register_alice(client, "Contact: <sip:alice@127.0.40.2:5070>;expires=0\n", older)) == 500);
    CHECK(node.location.size() == 1);
}

TEST_CASE("REGISTER: unknown users, foreign IMPUs and wrong passwords get 403, then the right password works")
{
    Node node;
    Client client(node);
    int cseq = 1;
    CHECK(status_of(client.send(register_request("sip:mallory@ims.test", cseq++, ""))) == 403);
    CHECK(node.events.back().reason == "unknown_user");

    const auto challenge = client.send(register_request("sip:alice@ims.test", cseq++, ""));
    const auto www = headers(challenge, "WWW-Authenticate").at(0);
    // Alice's credentials for bob's IMPU.
    CHECK(status_of(client.send(register_request("sip:bob@ims.test", cseq++, authorization(www, "alice@ims.test", "alice-secret")))) == 403);
    CHECK(node.events.back().reason == "impu_not_owned");

    CHECK(status_of(register_alice(client, "", cseq, "wrong")) == 403);
    CHECK(node.events.back().kind == RegistrarEvent::Kind::auth_failed);
    CHECK(node.events.back().reason == "wrong_response");
    CHECK(status_of(register_alice(client, "Contact: <sip:alice@127.0.40.2:5070>\n", cseq)) == 200);
}

TEST_CASE("REGISTER: malformed requests get 400 or 403, never a crash")
{
    Node node;
    Client client(node);
    int cseq = 1;
    const auto challenge = client.send(register_request("sip:alice@ims.test", cseq++, ""));
    const auto www = headers(challenge, "WWW-Authenticate").at(0);
    const std::string no_to = fmt::format("REGISTER sip:ims.test SIP/2.0\nVia: SIP/2.0/UDP {}:{{port}};branch={{branch}}\n"
                                          "From: <sip:alice@ims.test>;tag=1\nCall-ID: x@test\nCSeq: 1 REGISTER\n"
                                          "Contact: <sip:a@127.0.40.2>\nContent-Length: 0\n\n",
                                          client_address);
    CHECK(status_of(client.send(no_to)) == 400);
    CHECK(status_of(client.send(register_request("sip:alice@ims.test", cseq++, "Authorization: garbage\n"))) == 400);
    CHECK(status_of(client.send(register_request("sip:alice@ims.test", cseq++, "Authorization: Basic YWxpY2U6eA==\n"))) == 400);
    CHECK(status_of(client.send(register_request("sip:alice@ims.test", cseq++, "Authorization: Digest realm=\"ims.test\"\n"))) == 400);
    std::string bad_nonce = authorization(www, "alice@ims.test", "alice-secret");
    bad_nonce = std::regex_replace(bad_nonce, std::regex("nonce=\"[^\"]*\""), "nonce=\"%%%not-base64%%%\"");
    CHECK(status_of(client.send(register_request("sip:alice@ims.test", cseq++, bad_nonce))) == 400);
    CHECK(status_of(client.send(register_request("sip:alice@ims.test", cseq++, "Contact: <sip:a@127.0.40.2>;expires=soon\n" +
                                                                                authorization(www, "alice@ims.test", "alice-secret")))) == 400);
    CHECK(status_of(client.send(register_request("<<<", cseq++, ""))) == 403); // no identity of ours

    // AKA: an AUTS of the wrong length.
    const auto aka = client.send(register_request("sip:bob@ims.test", cseq++, ""));
    const auto aka_www = headers(aka, "WWW-Authenticate").at(0);
    CHECK(param(aka_www, "algorithm") == "AKAv1-MD5");
    CHECK(status_of(client.send(register_request("sip:bob@ims.test", cseq++,
                                                 authorization(aka_www, "bob@ims.test", "", 1, base64_encode("short"))))) == 403);
    CHECK(node.events.back().reason == "malformed_auts");
    CHECK(status_of(client.send(register_request("sip:alice@ims.test", cseq++, ""))) == 401); // still serving
}

TEST_CASE("REGISTER: AKA with a USIM, through a resynchronisation")
{
    Node node;
    Client client(node);
    const auto k = aka::to_block(*from_hex(test::test_k), "k");
    aka::Usim usim(aka::Milenage(k, aka::Milenage::opc_from_op(k, aka::to_block(*from_hex(test::test_op), "op"))));
    std::array<std::uint64_t, aka::ind_count> seq_ms{};
    seq_ms[0] = 77; // ahead of the network's SEQ 2
    usim.set_seq_ms(seq_ms);
    int cseq = 1;
    const std::string contact = "Contact: <sip:bob@127.0.40.2:5070>\n";
    auto www = headers(client.send(register_request("sip:bob@ims.test", cseq++, contact)), "WWW-Authenticate").at(0);
    auto nonce = auth::decode_aka_nonce(param(www, "nonce"));
    auto answer = usim.authenticate(nonce->rand, nonce->autn);
    REQUIRE(answer.status == aka::Usim::Status::sync_failure);
    const auto resync = client.send(register_request(
        "sip:bob@ims.test", cseq++, contact + authorization(www, "bob@ims.test", "", 1, base64_encode(answer.auts.data(), answer.auts.size()))));
    REQUIRE(status_of(resync) == 401);
    REQUIRE(node.events.back().kind == RegistrarEvent::Kind::resync);
    CHECK(node.events.back().seq_ms == 77);

    www = headers(resync, "WWW-Authenticate").at(0);
    nonce = auth::decode_aka_nonce(param(www, "nonce"));
    answer = usim.authenticate(nonce->rand, nonce->autn);
    REQUIRE(answer.status == aka::Usim::Status::ok);
    const auto password = auth::aka_password(1, answer.res, answer.ik, answer.ck);
    const auto ok = client.send(register_request("sip:bob@ims.test", cseq++, contact + authorization(www, "bob@ims.test", password)));
    CHECK(status_of(ok) == 200);
    CHECK(node.events.back().algorithm == "AKAv1-MD5");
}
