#include "swarm/file_reader.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace imsp2p::swarm {

std::vector<lt::file_slice> map_stream(const lt::file_storage& files, std::int64_t offset, std::size_t size)
{
    const int piece_length = files.piece_length();
    return files.map_block(lt::piece_index_t(static_cast<int>(offset / piece_length)),
                           static_cast<std::int64_t>(offset % piece_length), static_cast<std::int64_t>(size));
}

void zero_pads(const lt::file_storage& files, std::int64_t offset, std::span<std::uint8_t> data)
{
    std::size_t at = 0;
    for (const auto& slice : map_stream(files, offset, data.size())) {
        if (files.pad_file_at(slice.file_index))
            std::fill_n(data.begin() + static_cast<std::ptrdiff_t>(at), slice.size, std::uint8_t{0});
        at += static_cast<std::size_t>(slice.size);
    }
}

FileReader::~FileReader()
{
    unmap();
    if (fd_ >= 0)
        ::close(fd_);
}

void FileReader::unmap()
{
    if (map_)
        ::munmap(map_, map_size_);
    map_ = nullptr;
    map_offset_ = 0;
    map_size_ = 0;
}

void FileReader::open(const std::string& path, Outcome outcome)
{
    unmap();
    if (fd_ >= 0)
        ::close(fd_);
    path_ = path;
    outcome_ = outcome;
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0)
        fail(std::strerror(errno));
    // Read once, front to back: the kernel may read ahead further.
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

void FileReader::read(std::int64_t offset, std::span<std::uint8_t> out)
{
    for (std::size_t at = 0; at < out.size();) {
        const ssize_t n = ::pread(fd_, out.data() + at, out.size() - at, static_cast<off_t>(offset + static_cast<std::int64_t>(at)));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fail(std::strerror(errno));
        if (n == 0)
            fail("changed while being read");
        at += static_cast<std::size_t>(n);
    }
}

std::span<const std::uint8_t> FileReader::view(std::int64_t offset, std::size_t size)
{
    if (size == 0)
        return {};
    const auto end = offset + static_cast<std::int64_t>(size);
    if (offset < map_offset_ || end > map_offset_ + static_cast<std::int64_t>(map_size_))
        map_window(offset, end);
    // Faulting the range in here turns a file truncated since into an error
    // (EFAULT) instead of a SIGBUS on access, and costs fewer faults.
    const auto page = static_cast<std::int64_t>(::sysconf(_SC_PAGESIZE));
    const std::int64_t start = offset / page * page;
    if (::madvise(map_ + (start - map_offset_), static_cast<std::size_t>(end - start), MADV_POPULATE_READ) != 0 && errno != EINVAL)
        fail(errno == EFAULT ? "changed while being read" : std::strerror(errno));
    return {map_ + (offset - map_offset_), size};
}

// The file is mapped a window at a time, each unmapped when the reads move
// past it: one mapping of the whole file was torn down at the end, 50 ms for
// 1 GiB after every other thread had finished; spread over the pass it
// overlaps the hashing. Windows, not each range, since every unmap of
// a multithreaded process flushes the other cores' TLBs.
void FileReader::map_window(std::int64_t offset, std::int64_t end)
{
    unmap();
    struct stat status {};
    if (::fstat(fd_, &status) != 0)
        fail(std::strerror(errno));
    if (offset < 0 || end > status.st_size)
        fail("changed while being read");
    constexpr std::int64_t window = std::int64_t{64} << 20;
    const std::int64_t start = offset / window * window;
    const std::int64_t stop = std::min<std::int64_t>(status.st_size, std::max(end, start + window));
    void* map = ::mmap(nullptr, static_cast<std::size_t>(stop - start), PROT_READ, MAP_SHARED, fd_, static_cast<off_t>(start));
    if (map == MAP_FAILED)
        fail(std::strerror(errno));
    map_ = static_cast<std::uint8_t*>(map);
    map_offset_ = start;
    map_size_ = static_cast<std::size_t>(stop - start);
    ::madvise(map_, map_size_, MADV_SEQUENTIAL);
}

void FileReader::fail(const char* reason) const
{
    throw Failure(outcome_, fmt::format("{}: cannot read: {}", path_, reason));
}

} // namespace imsp2p::swarm
