// sofia-sip's clock once set up (sofia_init.cpp): the time of day in NTP
// seconds, rounded up to the millisecond, and never going back (it follows
// the monotonic clock; tests/e2e/clock-jump.sh steps the system clock).
#include "sip/sofia.hpp"
#include "sip/sofia_init.hpp"

#include <catch2/catch.hpp>
#include <sofia-sip/su_time.h>

#include <chrono>
#include <cstdlib>

TEST_CASE("sofia-sip's clock reads the time of day, in whole milliseconds, and never goes back")
{
    imsp2p::sip::init_sofia_once();
    const su_time_t first = su_now();
    const long long unix_now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    CHECK(std::llabs(static_cast<long long>(first.tv_sec) - 2208988800LL - unix_now) <= 1);
    CHECK(first.tv_usec % 1000 == 0);
    su_time_t last = first;
    bool forward = true;
    for (int i = 0; i < 10000; ++i) {
        const su_time_t now = su_now();
        forward = forward && su_time_cmp(now, last) >= 0;
        last = now;
    }
    CHECK(forward);
}
