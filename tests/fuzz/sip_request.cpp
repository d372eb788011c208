// SIP requests as a p2p-node receives them: a datagram to a real SipStack
// (sofia-sip's parser and transaction layer), through the node's request
// router to its registrar, reg event server and proxy, wired as
// node_command.cpp wires them, over the in-memory location service (bob is
// registered at the harness's socket, so requests for him are proxied).
//
// "{branch}" in an input becomes a fresh branch id, so that mutated copies
// of a seed are new transactions rather than retransmissions nta absorbs.
// tests/fuzz/run runs this target in its own network namespace: the proxy
// forwards wherever a Route or Request-URI says.
#include "core/proxy.hpp"
#include "core/reg_event_server.hpp"
#include "core/registrar.hpp"
#include "core/request_router.hpp"
#include "fuzz_support.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"


#include <chrono>
#include <memory>

using namespace imsp2p;
using namespace imsp2p::core;

namespace {

constexpr const char* node_address = "127.0.130.1";
constexpr const char* client_address = "127.0.130.2";
// The node is rebuilt after this many inputs: nta keeps answered
// transactions for 32 s, which at fuzzing rates is a lot of memory.
constexpr unsigned inputs_per_node = 2000;

sip::StackConfig stack_config()
{
    sip::StackConfig config;
    config.host = node_address;
    config.transaction_timeout = 2;
    return config;
}

struct Node {
    test::TempDir dir;
    hss::SubscriberStore store{dir.path() / "hss.sqlite"};
    MemoryLocation location;
    sip::SipStack stack{stack_config()};
    std::unique_ptr<RegEventServer> reg_event;
    std::unique_ptr<Registrar> registrar;
    std::unique_ptr<RequestRouter> router;
    std::unique_ptr<Proxy> proxy;

    explicit Node(unsigned client_port)
    {
        store.import(test::rows("alice@ims.test,sip:alice@ims.test;tel:+15550100,md5,alice-secret,,,,,\n"
                                "bob@ims.test,sip:bob@ims.test,aka,,465b5ce8b199b49faa5f0a2ee238a6bc,"
                                "cdc202d5123e20f62b6d676ac72cb318,,8000,000000000040\n"));
        Binding bob;
        bob.contact = fmt::format("sip:bob@{}:{}", client_address, client_port);
        bob.expires = Clock::now() + std::chrono::hours(24);
        bob.received = fmt::format("udp:{}:{}", client_address, client_port);
        location.bind("sip:bob@ims.test", bob, [](const LocationResult&) {});

        RegistrarConfig registrar_config;
        registrar_config.auth.realm = "ims.test";
        reg_event = std::make_unique<RegEventServer>(stack, location);
        registrar = std::make_unique<Registrar>(stack, store, location, registrar_config, [this](const RegistrarEvent& event) {
            if (event.kind == RegistrarEvent::Kind::registered || event.kind == RegistrarEvent::Kind::unregistered)
                reg_event->bindings_changed(event.impu, event.bindings);
        });
        router = std::make_unique<RequestRouter>(stack, *registrar);
        router->serve_reg_event([this](nta_incoming_s* irq, const sip_s* sip) { reg_event->handle(irq, sip); });
        ProxyConfig proxy_config;
        proxy_config.domain = "ims.test";
        proxy_config.auth = registrar_config.auth;
        proxy = std::make_unique<Proxy>(stack, store, location, proxy_config);
        router->serve_proxy([this](nta_incoming_s* irq, const sip_s* sip) { proxy->handle(irq, sip); });
    }
};

void replace_all(std::string& text, const std::string& from, const std::string& to)
{
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const fuzz::UdpSocket client(client_address); // the UEs: sends the inputs, swallows answers
    static std::unique_ptr<Node> node;
    static unsigned inputs = 0, branch = 0;
    if (!node || inputs++ % inputs_per_node == 0) {
        node.reset();
        fuzz::quiet();
        node = std::make_unique<Node>(client.port());
    }
    if (size > 65000)
        return -1; // no datagram is larger
    std::string datagram = fuzz::text(data, size);
    replace_all(datagram, "{branch}", "z9hG4bKfuzz" + std::to_string(++branch));
    client.send(datagram, node_address, node->stack.local_port());
    // Loopback delivers at once: a few turns of the loop serve the request
    // and whatever it starts (a location answer, a forwarded request).
    for (int turn = 0; turn < 4; ++turn) {
        su_root_step(node->stack.root(), 0);
        client.drain();
    }
    return 0;
}
