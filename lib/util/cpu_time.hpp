// CPU time this process used (user + system, all threads), from getrusage.
#pragma once

namespace imsp2p {

double cpu_seconds();

} // namespace imsp2p
