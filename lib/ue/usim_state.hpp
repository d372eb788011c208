// The USIM's memory between runs: its SEQ_MS array (TS 33.102 Annex C), so
// that a replayed or reused SQN is caught even by a new ims-register process.
#pragma once

#include "aka/aka.hpp"
#include "subscriber/subscriber.hpp"

#include <filesystem>
#include <memory>
#include <optional>

namespace imsp2p::ue {

// Where the state of `impi` lives by default:
// $XDG_STATE_HOME/imsp2p/usim/<impi>.json, else ~/.local/state/…; nullopt when
// neither variable is set (the state is then not kept).
std::optional<std::filesystem::path> default_usim_state_path(const std::string& impi);

// A USIM for an aka subscriber row: K and OPc (or OP) from the row; SEQ_MS from
// the state file if it exists, else every entry at the row's SQN.
// Throws Failure(usage) on a malformed state file.
std::shared_ptr<aka::Usim> make_usim(const subscriber::Subscriber& row,
                                     const std::optional<std::filesystem::path>& state);

// Writes SEQ_MS atomically (temporary file, then rename). Throws Failure(local).
void save_usim_state(const aka::Usim& usim, const std::string& impi, const std::filesystem::path& state);

} // namespace imsp2p::ue
