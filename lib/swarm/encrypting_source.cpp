#include "swarm/encrypting_source.hpp"

#include "cli/outcome.hpp"
#include "swarm/content_cipher.hpp"
#include "swarm/file_reader.hpp"
#include "util/random.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <optional>

namespace fs = std::filesystem;

namespace imsp2p::swarm {
namespace {

Iv random_iv()
{
    const std::string bytes = random_bytes(iv_size);
    Iv iv{};
    std::memcpy(iv.data(), bytes.data(), iv.size());
    return iv;
}

[[noreturn]] void cannot_write(const fs::path& file, int error)
{
    throw Failure(Outcome::local, fmt::format("{}: cannot write: {}", file.string(), std::strerror(error)));
}

// The bytes of one ciphertext file, for one thread.
class CipherFile {
public:
    explicit CipherFile(const EncryptionPlan& plan) : plan_(plan), cipher_(plan.key, plan.header.iv)
    {
        reader_.open(plan.in.string(), Outcome::usage);
    }

    // `out` = bytes [offset, offset + out.size()) of the file: the header, then
    // the ciphertext. Threads make parts of a file each, so any range.
    void produce(std::int64_t offset, std::span<std::uint8_t> out)
    {
        std::size_t at = 0;
        if (offset < static_cast<std::int64_t>(header_size)) {
            const HeaderBytes header = encode_header(plan_.header);
            at = std::min(out.size(), header_size - static_cast<std::size_t>(offset));
            std::memcpy(out.data(), header.data() + offset, at);
        }
        // Encrypted straight from the mapped plaintext: a read would copy it once more.
        const auto cipher_part = out.subspan(at);
        if (cipher_part.empty())
            return;
        const std::int64_t plain_offset = offset + static_cast<std::int64_t>(at) - static_cast<std::int64_t>(header_size);
        if (plain_offset != next_)
            cipher_.seek(static_cast<std::uint64_t>(plain_offset));
        const auto plain = reader_.view(plain_offset, cipher_part.size());
        cipher_.apply(plain.data(), cipher_part.data(), cipher_part.size());
        next_ = plain_offset + static_cast<std::int64_t>(cipher_part.size());
    }

private:
    const EncryptionPlan& plan_;
    FileReader reader_;
    CtrCipher cipher_;
    std::int64_t next_ = 0; // of the plaintext, where the key stream is
};

void write_all(int fd, const fs::path& file, std::int64_t offset, std::span<const std::uint8_t> data)
{
    for (std::size_t done = 0; done < data.size();) {
        const ssize_t n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset) + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            cannot_write(file, n < 0 ? errno : ENOSPC);
        done += static_cast<std::size_t>(n);
    }
}

class Descriptor {
public:
    explicit Descriptor(int fd) : fd_(fd) {}
    ~Descriptor()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    Descriptor(const Descriptor&) = delete;
    Descriptor& operator=(const Descriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

// Writes `data` at `offset` of `file`: with `direct`, its page-aligned middle with O_DIRECT,
// the rest through the page cache. Writing 1 GiB through the page cache costs
// a copy into fresh memory, which on a virtual machine is fresh host memory
// too: seconds of CPU where a direct write costs the disk's time only.
void store_slice(const fs::path& file, std::int64_t offset, std::span<const std::uint8_t> data, bool direct)
{
    const auto align = static_cast<std::int64_t>(stream_alignment);
    const auto address = static_cast<std::int64_t>(reinterpret_cast<std::uintptr_t>(data.data()));
    const auto size = static_cast<std::int64_t>(data.size());
    // [head, tail) of `data` is aligned in memory and in the file, when the two agree.
    std::int64_t head = 0;
    std::int64_t tail = 0;
    if (direct && (address - offset) % align == 0) {
        head = std::min(size, (align - offset % align) % align);
        tail = head + (size - head) / align * align;
    }
    if (tail > head) {
        Descriptor direct(::open(file.c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT));
        if (direct.get() >= 0) {
            write_all(direct.get(), file, offset + head, data.subspan(static_cast<std::size_t>(head), static_cast<std::size_t>(tail - head)));
        } else if (errno == EINVAL) { // no direct I/O on this file system
            head = tail = 0;
        } else {
            cannot_write(file, errno);
        }
    }
    if (head == 0 && tail == size)
        return;
    Descriptor buffered(::open(file.c_str(), O_WRONLY | O_CLOEXEC));
    if (buffered.get() < 0)
        cannot_write(file, errno);
    write_all(buffered.get(), file, offset, data.first(static_cast<std::size_t>(head)));
    write_all(buffered.get(), file, offset + tail, data.subspan(static_cast<std::size_t>(tail)));
}

// Gives `plan.out` its blocks before the direct writes: the disk then took
// 1 GiB in 0.34-0.41 s instead of 0.38-0.46 s, as no write allocates; and a
// full disk shows before any work. File systems without fallocate skip it.
void allocate(const EncryptionPlan& plan)
{
    Descriptor fd(::open(plan.out.c_str(), O_WRONLY | O_CLOEXEC));
    if (fd.get() < 0)
        cannot_write(plan.out, errno);
    if (::fallocate(fd.get(), 0, 0, static_cast<off_t>(plan.size())) != 0 && errno != EOPNOTSUPP && errno != ENOSYS)
        cannot_write(plan.out, errno);
}

class EncryptingSource;

class EncryptingReader final : public StreamSource::Reader {
public:
    explicit EncryptingReader(const EncryptingSource& source) : source_(source) {}
    void fill(std::int64_t offset, std::span<std::uint8_t> out) override;

private:
    const EncryptingSource& source_;
    std::optional<CipherFile> current_;
    lt::file_index_t open_{-1};
};

class EncryptingSource final : public StreamSource {
public:
    EncryptingSource(const lt::file_storage& files, std::string save_path, std::vector<EncryptionPlan> plans)
        : files_(files), save_path_(std::move(save_path)), plans_(std::move(plans)),
          direct_(files.total_size() >= direct_io_from)
    {
        for (const auto& plan : plans_) {
            by_path_.emplace(plan.out.lexically_normal().string(), &plan);
            if (direct_)
                allocate(plan);
        }
    }

    std::unique_ptr<Reader> reader() const override { return std::make_unique<EncryptingReader>(*this); }

    bool stores() const override { return true; }

    void store(std::int64_t offset, std::span<const std::uint8_t> data) override
    {
        for_each_part(files_, offset, data, [&](lt::file_index_t file, std::int64_t at, std::span<const std::uint8_t> part) {
            store_slice(plan_of(file).out, at, part, direct_);
        });
    }

    const lt::file_storage& files() const { return files_; }

    // Called from several threads: by_path_ is only read.
    const EncryptionPlan& plan_of(lt::file_index_t file) const
    {
        const auto path = fs::path(files_.file_path(file, save_path_)).lexically_normal();
        const auto it = by_path_.find(path.string());
        if (it == by_path_.end())
            throw Failure(Outcome::local, fmt::format("{}: not a file being published", path.string()));
        return *it->second;
    }

private:
    const lt::file_storage& files_;
    const std::string save_path_;
    const std::vector<EncryptionPlan> plans_;
    std::map<std::string, const EncryptionPlan*> by_path_;
    // Below this size the ciphertext goes through the page cache: what a
    // direct write saves there is small, and its synchronous disk writes
    // slowed every other writer of a shared disk (a core node's SQN commits
    // took over 5 s while tests published content beside it).
    static constexpr std::int64_t direct_io_from = std::int64_t{256} << 20;
    const bool direct_;
};

void EncryptingReader::fill(std::int64_t offset, std::span<std::uint8_t> out)
{
    const lt::file_storage& files = source_.files();
    zero_pads(files, offset, out);
    for_each_part(files, offset, out, [&](lt::file_index_t file, std::int64_t at, std::span<std::uint8_t> part) {
        if (file != open_) {
            current_.reset();
            current_.emplace(source_.plan_of(file));
            open_ = file;
        }
        current_->produce(at, part);
    });
}

} // namespace

EncryptionPlan plan_encryption(const fs::path& in, const fs::path& out, const Kid& kid, const Key& key)
{
    std::error_code ec;
    if (fs::is_directory(in, ec))
        throw Failure(Outcome::usage, fmt::format("{}: is a directory", in.string()));
    const int probe = ::open(in.c_str(), O_RDONLY | O_CLOEXEC);
    if (probe < 0)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", in.string(), std::strerror(errno)));
    const off_t size = ::lseek(probe, 0, SEEK_END);
    ::close(probe);
    if (size < 0)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", in.string(), std::strerror(errno)));
    EncryptionPlan plan{in, out, make_header(kid, key, random_iv(), static_cast<std::uint64_t>(size)), key};
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        cannot_write(out, errno);
    if (::ftruncate(fd, static_cast<off_t>(plan.size())) != 0) {
        const int error = errno;
        ::close(fd);
        cannot_write(out, error);
    }
    ::close(fd);
    return plan;
}

std::unique_ptr<StreamSource> encrypting_source(const lt::file_storage& files, std::string save_path,
                                                std::vector<EncryptionPlan> plans)
{
    return std::make_unique<EncryptingSource>(files, std::move(save_path), std::move(plans));
}

void check_unchanged(const std::vector<EncryptionPlan>& plans)
{
    for (const auto& plan : plans) {
        std::error_code ec;
        if (fs::file_size(plan.in, ec) != plan.header.plaintext_size || ec)
            throw Failure(Outcome::usage, fmt::format("{}: changed while being encrypted", plan.in.string()));
    }
}

} // namespace imsp2p::swarm
