#include "sip/sofia_init.hpp"

#include "cli/outcome.hpp"
#include "sip/sofia.hpp"
#include "sip/tls.hpp"

#include <sofia-sip/su_log.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>

extern "C" void (*_su_time)(su_time_t* tv);

// The logs of sofia-sip's tport, nta and nua modules (exported, not declared in its headers).
extern "C" su_log_t tport_log[];
extern "C" su_log_t nta_log[];
extern "C" su_log_t nua_log[];

namespace imsp2p::sip {
namespace {

// sofia-sip waits for its next timer in whole milliseconds, rounding down: a
// timer due in 0.9 ms makes it poll without sleeping until the timer is due.
// nta keeps a timer per transaction (retransmission, timer K), so under load
// one is nearly always that close and the loop spins (5.8 million epoll_wait
// calls for 40,000 messages, measured). Reading the clock rounded up to the
// next millisecond puts every timer on a millisecond boundary: a wait is then
// either zero because a timer is due, or at least 1 ms. Timers fire up to 1 ms
// early, which no SIP timer cares about.
void clock_rounded_up_to_ms(su_time_t* tv)
{
    const unsigned remainder = tv->tv_usec % 1000;
    if (remainder == 0)
        return;
    tv->tv_usec += 1000 - remainder;
    if (tv->tv_usec >= 1000000) {
        tv->tv_usec -= 1000000;
        ++tv->tv_sec;
    }
}

// sofia-sip 1.12 reads the wall clock (su_now()) for its timers: nta's
// retransmissions and transaction timeouts, su_timer. A step of the system
// clock moved every pending timer with it: stepped back by 300 s, a
// transaction to a silent peer did not time out for 300 s (measured under
// libfaketime, tests/e2e/clock-jump.sh); stepped forward, timers fired at
// once. So it reads the wall clock of its start advanced by the monotonic
// clock, which no step moves. sofia takes only durations from it; what needs
// the time of day (the registrar's Date header) reads the system clock.
std::chrono::system_clock::time_point wall_at_init;
std::chrono::steady_clock::time_point steady_at_init;
constexpr unsigned long ntp_epoch = 2208988800UL; // su_time_t counts seconds from 1900

void step_free_clock(su_time_t* tv)
{
    const auto now = wall_at_init + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                        std::chrono::steady_clock::now() - steady_at_init);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
    tv->tv_sec = static_cast<unsigned long>(us / 1000000) + ntp_epoch;
    tv->tv_usec = static_cast<unsigned long>(us % 1000000);
    clock_rounded_up_to_ms(tv);
}

// sofia-sip's transport and transaction logs (bad messages, garbage on the
// port) into ours, at debug level: visible with -vv, never on a bare stderr.
// The transport log also tells why a TLS connection failed (nothing else does):
// its lines go to tls.cpp too.
extern "C" void sofia_log_to_spdlog(void* transport, const char* format, va_list args)
{
    char text[512];
    std::vsnprintf(text, sizeof text, format, args);
    std::string line = text;
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
        line.pop_back();
    if (line.empty())
        return;
    spdlog::debug("sofia-sip: {}", line);
    if (transport)
        note_tport_log_line(line);
}

} // namespace

void init_sofia_once()
{
    static std::once_flag once;
    std::call_once(once, [] {
        if (su_init() != 0)
            throw Failure(Outcome::local, "sofia-sip initialisation failed");
        // sofia logs to stderr through its own log levels: keep it quiet.
        su_log_set_level(nullptr, 0);
        for (su_log_t* log : {tport_log, nta_log, nua_log}) {
            su_log_redirect(log, &sofia_log_to_spdlog, log == tport_log ? log : nullptr);
            su_log_set_level(log, 3);
        }
        wall_at_init = std::chrono::system_clock::now();
        steady_at_init = std::chrono::steady_clock::now();
        _su_time = step_free_clock;
    });
}

} // namespace imsp2p::sip
