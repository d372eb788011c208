// ims-register's two modes: one registration (optionally kept alive) and load.
#pragma once

#include "cli/outcome.hpp"
#include "cli/output.hpp"
#include "ue/register_options.hpp"

namespace imsp2p::ue {

Outcome run_register(const RegisterOptions& options, cli::Output& out);
Outcome run_register_load(const RegisterOptions& options, cli::Output& out);

} // namespace imsp2p::ue
