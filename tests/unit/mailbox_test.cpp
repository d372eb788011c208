// Work posted from other threads runs on the stack's loop thread, in order.
#include "sip/mailbox.hpp"
#include "sip/stack.hpp"

#include <catch2/catch.hpp>

#include <thread>
#include <vector>

using namespace imsp2p;

TEST_CASE("work posted from another thread runs on the loop thread, in order")
{
    sip::StackConfig config;
    config.host = "127.0.40.9";
    sip::SipStack stack(config);
    sip::Mailbox mailbox(stack);
    const auto loop_thread = std::this_thread::get_id();
    std::vector<int> seen;
    bool on_loop = true;
    std::thread poster([&] {
        for (int i = 0; i < 1000; ++i)
            mailbox.post([&, i] {
                on_loop = on_loop && std::this_thread::get_id() == loop_thread;
                seen.push_back(i);
                if (i == 999)
                    stack.stop();
            });
    });
    sip::Timer deadline(stack); // the test ends even if the work is lost
    deadline.start(5000, [&] { stack.stop(); });
    stack.run();
    poster.join();
    REQUIRE(seen.size() == 1000);
    CHECK(on_loop);
    for (int i = 0; i < 1000; ++i)
        CHECK(seen[static_cast<size_t>(i)] == i);
}
