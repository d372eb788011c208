#include "sip/mailbox.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia.hpp"
#include "sip/stack.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace imsp2p::sip {
namespace {

int mailbox_ready(SipStack*, su_wait_t*, su_wakeup_arg_t* mailbox)
{
    static_cast<Mailbox*>(mailbox)->drain();
    return 0;
}

} // namespace

Mailbox::Mailbox(SipStack& stack) : stack_(stack), fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC))
{
    if (fd_ < 0)
        throw Failure(Outcome::local, fmt::format("eventfd: {}", std::strerror(errno)));
    su_wait_t wait = SU_WAIT_INIT;
    if (su_wait_create(&wait, fd_, SU_WAIT_IN) != 0 ||
        (index_ = su_root_register(stack.root(), &wait, &mailbox_ready, this, 0)) < 0) {
        close(fd_);
        throw Failure(Outcome::local, "cannot register a mailbox with the event loop");
    }
}

Mailbox::~Mailbox()
{
    su_root_deregister(stack_.root(), index_);
    close(fd_);
}

void Mailbox::post(std::function<void()> work)
{
    bool was_empty;
    {
        std::lock_guard lock(mutex_);
        was_empty = queue_.empty();
        queue_.push_back(std::move(work));
    }
    // One wake-up per batch: work posted while the queue is not empty is
    // taken by the drain() the first post woke (drain() empties the queue
    // after reading the counter). Saves a system call per DHT completion
    // under load.
    if (!was_empty)
        return;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto written = write(fd_, &one, sizeof one);
}

void Mailbox::drain()
{
    std::uint64_t count = 0;
    [[maybe_unused]] const auto got = read(fd_, &count, sizeof count);
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(queue_);
    }
    for (auto& work : batch) {
        try {
            work();
        } catch (const std::exception& error) {
            spdlog::error("work handed to the SIP loop failed: {}", error.what());
        }
    }
}

} // namespace imsp2p::sip
