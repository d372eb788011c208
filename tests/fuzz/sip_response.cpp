// SIP responses as ims-register receives them: a REGISTER client (lib/sip
// Registration, the code of ims-register and its load mode) on a real
// SipStack sends to the harness's socket, which answers with the input.
// The input is a response without the transaction's headers: the status
// line, then any headers and body; the harness puts the REGISTER's Via,
// From, To, Call-ID and CSeq after the status line, so that nta matches it
// to the transaction and the client's own code reads it (challenges, AKA
// nonces, Contact, Service-Route, Path, P-Associated-URI, GRUUs, 423, …).
#include "aka/milenage.hpp"
#include "fuzz_support.hpp"
#include "sip/registration.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"
#include "util/hex.hpp"


#include <memory>

using namespace imsp2p;

namespace {

constexpr const char* ue_address = "127.0.130.3";
constexpr const char* registrar_address = "127.0.130.4";

// The request's header lines that make a response match its transaction.
std::string transaction_headers(const std::string& request)
{
    std::string out;
    bool via_taken = false;
    std::size_t at = request.find("\r\n");
    while (at != std::string::npos) {
        const auto end = request.find("\r\n", at + 2);
        if (end == std::string::npos || end == at + 2)
            break;
        const auto line = request.substr(at + 2, end - at - 2);
        const auto name = line.substr(0, line.find(':'));
        const bool via = name == "Via" || name == "v";
        if ((via && !via_taken) || name == "From" || name == "f" || name == "To" || name == "t" || name == "Call-ID" ||
            name == "i" || name == "CSeq")
            out += line + "\r\n";
        via_taken = via_taken || via;
        at = end;
    }
    return out;
}

std::shared_ptr<aka::Usim> usim()
{
    const auto k = from_hex("465b5ce8b199b49faa5f0a2ee238a6bc");
    const auto op = from_hex("cdc202d5123e20f62b6d676ac72cb318");
    aka::Block kb{}, opb{};
    std::copy(k->begin(), k->end(), kb.begin());
    std::copy(op->begin(), op->end(), opb.begin());
    return std::make_shared<aka::Usim>(aka::Milenage(kb, aka::Milenage::opc_from_op(kb, opb)));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const fuzz::UdpSocket registrar(registrar_address);
    static const std::unique_ptr<sip::SipStack> stack = [] {
        fuzz::quiet();
        sip::StackConfig config;
        config.host = ue_address;
        return std::make_unique<sip::SipStack>(config);
    }();
    if (size > 60000)
        return -1; // no datagram is larger

    sip::RegistrationParams params;
    params.impu = "sip:alice@ims.test";
    params.registrar = "sip:ims.test";
    params.next_hop = fmt::format("sip:{}:{}", registrar_address, registrar.port());
    params.username = "alice@ims.test";
    params.password = "alice-secret";
    params.usim = usim();
    params.contact = stack->contact_uri("alice");
    params.instance_id = "<urn:uuid:00000000-0000-1000-8000-000000000001>";
    sip::Registration registration(*stack, params);
    bool done = false;
    registration.start(sip::RegisterAction::bind, [&done](const sip::RegistrationResult&) { done = true; });

    sockaddr_in ue{};
    std::string request;
    for (int turn = 0; turn < 50 && request.empty(); ++turn) {
        su_root_step(stack->root(), turn == 0 ? 0 : 1);
        request = registrar.receive(ue);
    }
    if (request.empty())
        return 0;
    const std::string input = fuzz::text(data, size);
    const auto first_end = input.find('\n');
    std::string response = input.substr(0, first_end);
    if (!response.empty() && response.back() == '\r')
        response.pop_back();
    response += "\r\n" + transaction_headers(request);
    if (first_end != std::string::npos)
        response += input.substr(first_end + 1);
    registrar.send(response, ue);
    for (int turn = 0; turn < 4 && !done; ++turn)
        su_root_step(stack->root(), 0);
    registration.cancel();
    registrar.drain();
    return 0;
}
