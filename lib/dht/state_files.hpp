// Reading and writing the small files the overlay keeps: credentials, the
// node id, the node cache. Errors name the file and the cause.
#pragma once

#include <filesystem>
#include <string>

namespace imsp2p::dht {

// The whole file. Failure(usage) "FILE: cannot read: CAUSE".
std::string read_file(const std::filesystem::path& file);

// Writes through a temporary file and a rename, so a crash never leaves half a
// file; the file gets `mode` (e.g. 0600 for keys) from its creation on.
// With `exclusive`, an existing file is an error (keys are never overwritten).
// Failure(local) "FILE: cannot write: CAUSE", Failure(usage) when it exists.
void write_file(const std::filesystem::path& file, const std::string& data, unsigned mode, bool exclusive = false);

} // namespace imsp2p::dht
