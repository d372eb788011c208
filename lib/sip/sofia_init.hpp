// Process-wide sofia-sip set-up shared by every SIP endpoint (nta's
// sip::SipStack and nua's call::UserAgent): su_init, its logs into ours,
// and the clock hook that keeps its event loop from spinning and its timers
// from following steps of the system clock.
#pragma once

namespace imsp2p::sip {

// Once per process; later calls do nothing. Failure(local) if su_init fails.
void init_sofia_once();

} // namespace imsp2p::sip
