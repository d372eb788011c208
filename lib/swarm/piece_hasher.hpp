// The v1 (SHA-1) and v2 (SHA-256 merkle) piece hashes of a torrent, from its
// bytes made once by a StreamSource, in a ring of chunks: each worker thread
// fills a few pieces and hashes them while they are in its cache. The source
// may make the bytes it hands over (EncryptingSource encrypts, and writes the
// ciphertext), so publishing reads the content once and libtorrent never
// reads it: its set_piece_hashes() reads the files again on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include <libtorrent/fwd.hpp>

namespace imsp2p::swarm {

// The torrent's bytes: its files one after the other, pad files as zeros.
class StreamSource {
public:
    // Makes bytes of the stream for one thread.
    class Reader {
    public:
        virtual ~Reader() = default;
        // Fills `out` with the bytes from `offset`: any range, in any order;
        // throws Failure on errors.
        virtual void fill(std::int64_t offset, std::span<std::uint8_t> out) = 0;
    };

    virtual ~StreamSource() = default;
    // A reader for the calling thread; called by several threads at once.
    virtual std::unique_ptr<Reader> reader() const = 0;
    // Whether store() keeps the bytes (writes them out), and so is called.
    virtual bool stores() const { return false; }
    // Keeps the bytes the readers gave from `offset`, on one of several writer
    // threads, in any order; `data` is aligned to 4096 bytes, as the offset of
    // each chunk (for O_DIRECT).
    virtual void store(std::int64_t /*offset*/, std::span<const std::uint8_t> /*data*/) {}
};

constexpr std::size_t stream_alignment = 4096;

// Sets every piece hash `torrent` needs (v1, v2 or both, by its flags) from
// `source`'s bytes, made and hashed by `threads` threads (at least 1), and
// stored by writer threads when the source stores. The first exception of the source or
// a thread stops them all and propagates.
void hash_pieces(lt::create_torrent& torrent, StreamSource& source, int threads);

} // namespace imsp2p::swarm
