// The administrative channel of a running p2p-node: a Unix datagram socket,
// STATE_DIR/control.sock (mode 0600: only the node's owner may use it), on
// the node's event loop. One JSON object per datagram, one JSON answer back
// to the sender's address. `p2p-node deregister` is its client.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

namespace imsp2p::sip {
class SipStack;
}

namespace imsp2p::core {

class ControlSocket {
public:
    // The handler answers through `reply`, now or later on the loop.
    using Reply = std::function<void(const nlohmann::json&)>;
    using Handler = std::function<void(const nlohmann::json& request, Reply reply)>;

    // Replaces a stale socket file; Failure(local) when it cannot bind.
    ControlSocket(sip::SipStack& stack, std::filesystem::path path, Handler handler);
    ~ControlSocket();
    ControlSocket(const ControlSocket&) = delete;
    ControlSocket& operator=(const ControlSocket&) = delete;

    void receive(); // called by the event loop when a datagram waits

private:
    sip::SipStack& stack_;
    std::filesystem::path path_;
    Handler handler_;
    int fd_ = -1;
    int index_ = -1;
};

// The client: sends `request` to the node's socket and waits up to
// `timeout_s` for the answer. Failure(no_answer) when no node listens there.
nlohmann::json control_request(const std::filesystem::path& path, const nlohmann::json& request, double timeout_s);

} // namespace imsp2p::core
