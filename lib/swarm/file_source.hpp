// The bytes of a torrent's files as they are on disk, for hash_pieces()
// (swarm-publish --no-encrypt, and --reseed's torrents are not made here).
#pragma once

#include "swarm/piece_hasher.hpp"

#include <memory>
#include <string>

namespace imsp2p::swarm {

// Reads the files of `files` under `save_path`; Failure(local) when one cannot
// be read or is shorter than when it was listed.
std::unique_ptr<StreamSource> file_source(const lt::file_storage& files, std::string save_path);

} // namespace imsp2p::swarm
