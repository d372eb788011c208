#include "swarm/content_cipher.hpp"

#include "cli/outcome.hpp"
#include "util/hex.hpp"
#include "util/random.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <cerrno>
#include <array>
#include <climits>
#include <cstdio>
#include <cstring>
#include <vector>

namespace imsp2p::swarm {
namespace {

constexpr std::size_t aes_block = 16;

constexpr std::size_t chunk_size = 1 << 20;

template <std::size_t N>
std::array<std::uint8_t, N> random_array()
{
    const std::string bytes = random_bytes(N);
    std::array<std::uint8_t, N> out{};
    std::memcpy(out.data(), bytes.data(), N);
    return out;
}

struct FileCloser {
    void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File open_read(const std::filesystem::path& path)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw Failure(Outcome::usage, fmt::format("{}: is a directory", path.string()));
    File file(std::fopen(path.c_str(), "rb"));
    if (!file)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
    return file;
}

// Writes go to a temporary file renamed over `target` by commit(); anything
// left uncommitted is removed, so a failure never leaves a partial output.
class AtomicOutput {
public:
    explicit AtomicOutput(std::filesystem::path target) : target_(std::move(target))
    {
        temp_ = target_;
        const auto tag = random_array<4>();
        temp_ += fmt::format(".part-{}", to_hex(tag.data(), tag.size()));
        file_.reset(std::fopen(temp_.c_str(), "wbx"));
        if (!file_)
            throw Failure(Outcome::local, fmt::format("{}: cannot write: {}", target_.string(), std::strerror(errno)));
    }
    ~AtomicOutput()
    {
        if (!committed_) {
            file_.reset();
            std::error_code ec;
            std::filesystem::remove(temp_, ec);
        }
    }
    AtomicOutput(const AtomicOutput&) = delete;
    AtomicOutput& operator=(const AtomicOutput&) = delete;

    void write(const std::uint8_t* data, std::size_t size)
    {
        if (std::fwrite(data, 1, size, file_.get()) != size)
            fail();
    }
    void commit()
    {
        if (std::fflush(file_.get()) != 0 || std::ferror(file_.get()))
            fail();
        if (std::fclose(file_.release()) != 0)
            fail();
        std::error_code ec;
        std::filesystem::rename(temp_, target_, ec);
        if (ec)
            throw Failure(Outcome::local, fmt::format("{}: cannot write: {}", target_.string(), ec.message()));
        committed_ = true;
    }

private:
    [[noreturn]] void fail()
    {
        const int error = errno;
        throw Failure(Outcome::local, fmt::format("{}: cannot write: {}{}", target_.string(), std::strerror(error),
                                                  error == ENOSPC ? " (partial output removed)" : ""));
    }

    std::filesystem::path target_;
    std::filesystem::path temp_;
    File file_;
    bool committed_ = false;
};

} // namespace

CtrCipher::CtrCipher(const Key& key, const Iv& iv) : ctx_(EVP_CIPHER_CTX_new()), iv_(iv)
{
    if (!ctx_ || EVP_EncryptInit_ex(ctx_, EVP_aes_128_ctr(), nullptr, key.data(), iv.data()) != 1) {
        EVP_CIPHER_CTX_free(ctx_);
        throw Failure(Outcome::local, "OpenSSL AES-128-CTR initialisation failed");
    }
}

CtrCipher::~CtrCipher() { EVP_CIPHER_CTX_free(ctx_); }

void CtrCipher::apply(const std::uint8_t* in, std::uint8_t* out, std::size_t size)
{
    while (size > 0) {
        const int step = static_cast<int>(std::min<std::size_t>(size, INT_MAX / 2));
        int written = 0;
        if (EVP_EncryptUpdate(ctx_, out, &written, in, step) != 1 || written != step)
            throw Failure(Outcome::local, "OpenSSL AES-128-CTR failed");
        in += step;
        out += step;
        size -= static_cast<std::size_t>(step);
    }
}

void CtrCipher::seek(std::uint64_t offset)
{
    // The counter block of `offset`: the IV plus the block number, as a
    // 128-bit big-endian sum (OpenSSL's CTR carries through all 16 bytes).
    Iv counter = iv_;
    std::uint64_t add = offset / aes_block;
    for (std::size_t i = counter.size(); i-- > 0 && add != 0;) {
        const unsigned sum = counter[i] + static_cast<unsigned>(add & 0xff);
        counter[i] = static_cast<std::uint8_t>(sum);
        add = (add >> 8) + (sum >> 8);
    }
    if (EVP_EncryptInit_ex(ctx_, nullptr, nullptr, nullptr, counter.data()) != 1)
        throw Failure(Outcome::local, "OpenSSL AES-128-CTR failed");
    std::array<std::uint8_t, aes_block> skipped{};
    apply(skipped.data(), skipped.data(), offset % aes_block);
}

Kid random_kid() { return random_array<kid_size>(); }
Key random_key() { return random_array<key_size>(); }

ContentHeader encrypt_file(const std::filesystem::path& in, const std::filesystem::path& out, const Kid& kid,
                           const Key& key)
{
    File source = open_read(in);
    std::error_code ec;
    const auto size = std::filesystem::file_size(in, ec);
    if (ec)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", in.string(), ec.message()));
    const ContentHeader header = make_header(kid, key, random_array<iv_size>(), size);

    File sink(std::fopen(out.c_str(), "wb"));
    if (!sink)
        throw Failure(Outcome::local, fmt::format("{}: cannot write: {}", out.string(), std::strerror(errno)));
    auto write = [&](const std::uint8_t* data, std::size_t n) {
        if (std::fwrite(data, 1, n, sink.get()) != n)
            throw Failure(Outcome::local, fmt::format("{}: cannot write: {}", out.string(), std::strerror(errno)));
    };
    const HeaderBytes bytes = encode_header(header);
    write(bytes.data(), bytes.size());

    CtrCipher cipher(key, header.iv);
    std::vector<std::uint8_t> buffer(chunk_size);
    std::uint64_t total = 0;
    for (;;) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), source.get());
        if (n == 0)
            break;
        cipher.apply(buffer.data(), buffer.data(), n);
        write(buffer.data(), n);
        total += n;
    }
    if (std::ferror(source.get()))
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", in.string(), std::strerror(errno)));
    if (total != size)
        throw Failure(Outcome::usage, fmt::format("{}: changed while being encrypted", in.string()));
    if (std::fflush(sink.get()) != 0 || std::fclose(sink.release()) != 0)
        throw Failure(Outcome::local, fmt::format("{}: cannot write: {}", out.string(), std::strerror(errno)));
    return header;
}

ContentHeader read_content_header(const std::filesystem::path& file)
{
    File source = open_read(file);
    HeaderBytes bytes{};
    const std::size_t n = std::fread(bytes.data(), 1, bytes.size(), source.get());
    if (std::ferror(source.get()))
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    auto header = decode_header(std::span(bytes.data(), n));
    if (!header) {
        if (has_content_magic(std::span(bytes.data(), n)))
            throw Failure(Outcome::negative,
                          fmt::format("{}: truncated ciphertext: {} bytes, shorter than the {}-byte header",
                                      file.string(), n, header_size));
        throw Failure(Outcome::usage, fmt::format("{}: not an encrypted imsp2p content file", file.string()));
    }
    return *header;
}

void decrypt_file(const std::filesystem::path& in, const std::filesystem::path& out, const Key& key)
{
    const ContentHeader header = read_content_header(in);
    if (!key_matches(header, key))
        throw Failure(Outcome::auth, fmt::format("{}: the licence key for KID {} does not decrypt this file "
                                                 "(key check mismatch)",
                                                 in.string(), to_hex(header.kid.data(), header.kid.size())));
    std::error_code ec;
    const auto file_size = std::filesystem::file_size(in, ec);
    const std::uint64_t expected = header.plaintext_size + header_size;
    if (!ec && file_size < expected)
        throw Failure(Outcome::negative, fmt::format("{}: truncated ciphertext: {} of {} bytes", in.string(),
                                                     file_size, expected));
    if (!ec && file_size > expected)
        throw Failure(Outcome::negative, fmt::format("{}: {} bytes after the end of the ciphertext ({} bytes expected)",
                                                     in.string(), file_size - expected, expected));

    File source = open_read(in);
    if (std::fseek(source.get(), static_cast<long>(header_size), SEEK_SET) != 0)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", in.string(), std::strerror(errno)));
    AtomicOutput sink(out);
    CtrCipher cipher(key, header.iv);
    std::vector<std::uint8_t> buffer(chunk_size);
    std::uint64_t total = 0;
    for (;;) {
        const std::size_t n = std::fread(buffer.data(), 1, buffer.size(), source.get());
        if (n == 0)
            break;
        total += n;
        if (total > header.plaintext_size)
            throw Failure(Outcome::negative, fmt::format("{}: bytes after the end of the ciphertext", in.string()));
        cipher.apply(buffer.data(), buffer.data(), n);
        sink.write(buffer.data(), n);
    }
    if (std::ferror(source.get()))
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", in.string(), std::strerror(errno)));
    if (total < header.plaintext_size)
        throw Failure(Outcome::negative, fmt::format("{}: truncated ciphertext: {} of {} bytes", in.string(),
                                                     total + header_size, header.plaintext_size + header_size));
    sink.commit();
}

} // namespace imsp2p::swarm
