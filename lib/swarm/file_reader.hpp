// Positional reads of one file at a time, for the stream sources of
// hash_pieces(); and the walk from stream ranges to file slices they share.
#pragma once

#include "cli/outcome.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <libtorrent/file_storage.hpp>

namespace imsp2p::swarm {

// The file slices of the torrent's bytes [offset, offset + size).
std::vector<lt::file_slice> map_stream(const lt::file_storage& files, std::int64_t offset, std::size_t size);

// Calls part(file, offset in the file, its bytes) for each real file in the
// torrent's bytes [offset, offset + data.size()), held in `data`; pad files
// are skipped (fill() gives them zeros before).
template <typename Byte, typename Part>
void for_each_part(const lt::file_storage& files, std::int64_t offset, std::span<Byte> data, Part part)
{
    std::size_t at = 0;
    for (const auto& slice : map_stream(files, offset, data.size())) {
        const auto bytes = data.subspan(at, static_cast<std::size_t>(slice.size));
        at += bytes.size();
        if (!files.pad_file_at(slice.file_index))
            part(slice.file_index, slice.offset, bytes);
    }
}

// Zeros for the pad files in the torrent's bytes [offset, offset + data.size()).
void zero_pads(const lt::file_storage& files, std::int64_t offset, std::span<std::uint8_t> data);

class FileReader {
public:
    FileReader() = default;
    ~FileReader();
    FileReader(const FileReader&) = delete;
    FileReader& operator=(const FileReader&) = delete;

    // Failures name `path` and carry `outcome`.
    void open(const std::string& path, Outcome outcome);
    // Fills `out` from `offset`; Failure "changed while being read" at an early end.
    void read(std::int64_t offset, std::span<std::uint8_t> out);
    // The file's bytes [offset, offset + size) in place, without a copy (the
    // file is mapped, the range's pages faulted in at once); valid until the
    // next view() or open(). Failure "changed while being read" when the file is shorter.
    std::span<const std::uint8_t> view(std::int64_t offset, std::size_t size);

private:
    [[noreturn]] void fail(const char* reason) const;
    void map_window(std::int64_t offset, std::int64_t end);
    void unmap();

    std::string path_;
    Outcome outcome_ = Outcome::local;
    int fd_ = -1;
    std::uint8_t* map_ = nullptr; // the file's bytes from map_offset_
    std::int64_t map_offset_ = 0;
    std::size_t map_size_ = 0;
};

} // namespace imsp2p::swarm
