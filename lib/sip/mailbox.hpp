// Hands work from other threads (OpenDHT's, a signal watcher's) to a stack's
// event loop: su_root is single-threaded and must never block on another
// loop. post() is thread-safe; the work runs on the loop's thread, in order.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

namespace imsp2p::sip {

class SipStack;

class Mailbox {
public:
    explicit Mailbox(SipStack& stack); // Failure(local) if the eventfd cannot be made
    ~Mailbox();                        // work still queued is dropped, never run
    Mailbox(const Mailbox&) = delete;
    Mailbox& operator=(const Mailbox&) = delete;

    void post(std::function<void()> work);
    void drain(); // called by the event loop when the eventfd is readable

private:
    SipStack& stack_;
    int fd_ = -1;
    int index_ = -1;
    std::mutex mutex_;
    std::deque<std::function<void()>> queue_;
};

} // namespace imsp2p::sip
