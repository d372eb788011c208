// The ciphertext files of a publication (DESIGN.md §4: header, then AES-128-CTR)
// as a StreamSource: it reads each plaintext once, encrypts it, writes the
// ciphertext file and hands the same bytes to hash_pieces(), in one pass.
#pragma once

#include "swarm/content_header.hpp"
#include "swarm/piece_hasher.hpp"

#include <filesystem>
#include <memory>
#include <vector>

namespace imsp2p::swarm {

struct EncryptionPlan {
    std::filesystem::path in;
    std::filesystem::path out;
    ContentHeader header;
    Key key{};
    std::uint64_t size() const { return header.plaintext_size + header_size; } // of `out`
};

// A plan with a fresh IV for `in`, at its size now. Creates `out` at its final
// size, so the torrent's file list can be made before it is written.
// Failure(usage) when `in` cannot be read, Failure(local) when `out` cannot be created.
EncryptionPlan plan_encryption(const std::filesystem::path& in, const std::filesystem::path& out, const Kid& kid,
                               const Key& key);

// The bytes of `files` (under `save_path`), each the `out` of one of `plans`.
// Failure(usage) when a plaintext cannot be read or shrank, Failure(local) when
// writing fails or a file of the torrent has no plan.
std::unique_ptr<StreamSource> encrypting_source(const lt::file_storage& files, std::string save_path,
                                                std::vector<EncryptionPlan> plans);

// Failure(usage) "IN: changed while being encrypted" unless each plaintext
// still has its planned size.
void check_unchanged(const std::vector<EncryptionPlan>& plans);

} // namespace imsp2p::swarm
