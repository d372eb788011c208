#include "swarm/piece_hasher.hpp"

#include "swarm/evp_digest.hpp"

#include <libtorrent/create_torrent.hpp>
#include <libtorrent/file_storage.hpp>

#include <sys/mman.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <vector>

namespace imsp2p::swarm {
namespace {

constexpr int block_size = 16 * 1024;              // the v2 merkle leaf
constexpr std::int64_t min_chunk = 4 * 1024 * 1024; // whole pieces, stored at once
// Pieces a thread fills and hashes at a time, at least this many bytes: few
// enough to stay in its cache between the two, enough to make the locking rare.
constexpr std::int64_t min_unit = 256 * 1024;
constexpr std::int64_t ring_bytes = 48 * 1024 * 1024;
// Writes in flight: direct writes wait for the disk, not the CPU, and a
// virtual disk takes several at once.
constexpr int writer_threads = 4;

// The root of a merkle tree over `leaves` (a power of two of them; BEP 52), in place.
lt::sha256_hash merkle_root(std::vector<lt::sha256_hash>& leaves, EvpDigest& sha256)
{
    for (std::size_t width = leaves.size(); width > 1; width /= 2)
        for (std::size_t i = 0; i < width / 2; ++i)
            leaves[i] = sha256.of<lt::sha256_hash>(leaves[2 * i].data(), 2 * lt::sha256_hash::size());
    return leaves.front();
}

int leaves_to_pad_to(int blocks)
{
    int leaves = 1;
    while (leaves < blocks)
        leaves *= 2;
    return leaves;
}

// Chunks sit on huge pages where the kernel allows (fewer TLB misses while
// hashing, fewer pages to pin for each direct write).
constexpr std::size_t chunk_alignment = 2 * 1024 * 1024;

struct AlignedFree {
    void operator()(std::uint8_t* data) const { ::operator delete[](data, std::align_val_t(chunk_alignment)); }
};

// A chunk of the stream: whole pieces, in units of a few of them, each
// filled and hashed by whichever thread is free; storing the chunk once all
// are filled is one more unit, for a writer thread.
struct Chunk {
    std::unique_ptr<std::uint8_t[], AlignedFree> data;
    std::int64_t offset = 0;
    std::int64_t size = 0;
    int first_piece = 0;
    int pieces = 0;
    int units = 0;    // fill and hash units
    int claimed = 0;  // units taken
    int unfilled = 0; // units not filled yet
    int pending = 0;  // units not done, the store included
};

struct PieceHashes {
    std::vector<lt::sha1_hash> v1;
    std::vector<lt::sha256_hash> v2; // per piece of the torrent; unset for pieces that start in a pad file
};

// The hashes of one piece, by one thread.
class PieceWork {
public:
    PieceWork(const lt::file_storage& files, PieceHashes& hashes) : files_(files), hashes_(hashes) {}

    void sha1(const Chunk& chunk, int piece)
    {
        const lt::piece_index_t index(piece);
        sha1_.start();
        sha1_.update(bytes(chunk, piece), static_cast<std::size_t>(files_.piece_size(index)));
        sha1_.finish(hashes_.v1[static_cast<std::size_t>(piece)].data());
    }

    // v2 layouts align files to pieces: the piece lies in one file, whose
    // bytes in it (not the pad bytes after) are the merkle leaves.
    void sha256(const Chunk& chunk, int piece)
    {
        const lt::piece_index_t index(piece);
        const lt::file_index_t file = files_.file_index_at_piece(index);
        if (files_.pad_file_at(file))
            return;
        const int file_bytes = files_.piece_size2(index);
        const std::uint8_t* data = bytes(chunk, piece);
        leaves_.clear();
        for (int block = 0; block < file_bytes; block += block_size)
            leaves_.push_back(sha256_.of<lt::sha256_hash>(data + block, static_cast<std::size_t>(std::min(block_size, file_bytes - block))));
        // A file smaller than a piece pads its leaves to a power of two, the
        // others to a whole piece (libtorrent's and BEP 52's layout).
        const int padded = files_.file_size(file) < files_.piece_length() ? leaves_to_pad_to(files_.file_num_blocks(file))
                                                                          : files_.piece_length() / block_size;
        leaves_.resize(static_cast<std::size_t>(padded));
        hashes_.v2[static_cast<std::size_t>(piece)] = merkle_root(leaves_, sha256_);
    }

private:
    const std::uint8_t* bytes(const Chunk& chunk, int piece) const
    {
        return chunk.data.get() + (static_cast<std::int64_t>(piece) * files_.piece_length() - chunk.offset);
    }

    const lt::file_storage& files_;
    PieceHashes& hashes_;
    EvpDigest sha1_{"SHA1"};
    EvpDigest sha256_{"SHA256"};
    std::vector<lt::sha256_hash> leaves_;
};

// The ring: free chunks are opened in order; the threads fill and hash the
// open ones, the writers store the filled ones.
class Ring {
public:
    Ring(const lt::file_storage& files, bool v1, bool v2, bool stores, PieceHashes& hashes)
        : files_(files), v1_(v1), v2_(v2), stores_(stores), hashes_(hashes),
          chunk_bytes_(std::max<std::int64_t>(min_chunk, files.piece_length())),
          pieces_per_unit_(static_cast<int>(std::max<std::int64_t>(1, min_unit / files.piece_length())))
    {
        const auto count = std::clamp<std::int64_t>(ring_bytes / chunk_bytes_, 3, 12);
        chunks_.resize(static_cast<std::size_t>(count));
        for (auto& chunk : chunks_) {
            chunk.data.reset(new (std::align_val_t(chunk_alignment)) std::uint8_t[static_cast<std::size_t>(chunk_bytes_)]);
            ::madvise(chunk.data.get(), static_cast<std::size_t>(chunk_bytes_), MADV_HUGEPAGE);
            free_.push_back(&chunk);
        }
    }

    void produce()
    {
        const std::int64_t total = files_.total_size();
        const int pieces_per_chunk = static_cast<int>(chunk_bytes_ / files_.piece_length());
        for (std::int64_t offset = 0; offset < total; offset += chunk_bytes_) {
            std::unique_lock lock(mutex_);
            free_cv_.wait(lock, [&] { return failed_ || !free_.empty(); });
            if (failed_)
                return;
            Chunk* chunk = free_.back();
            free_.pop_back();
            chunk->size = std::min(chunk_bytes_, total - offset);
            chunk->offset = offset;
            chunk->first_piece = static_cast<int>(offset / files_.piece_length());
            chunk->pieces = std::min(pieces_per_chunk, files_.num_pieces() - chunk->first_piece);
            chunk->units = (chunk->pieces + pieces_per_unit_ - 1) / pieces_per_unit_;
            chunk->claimed = 0;
            chunk->unfilled = chunk->units;
            chunk->pending = chunk->units + (stores_ ? 1 : 0);
            open_.push_back(chunk);
            unfilled_chunks_ += 1;
            lock.unlock();
            work_cv_.notify_all();
        }
    }

    // Fills and hashes units of open chunks until they are all done (finish()) or a failure.
    void work(const StreamSource& source)
    {
        PieceWork piece_work(files_, hashes_);
        const auto reader = source.reader();
        for (;;) {
            Chunk* chunk = nullptr;
            int unit = 0;
            {
                std::unique_lock lock(mutex_);
                work_cv_.wait(lock, [&] { return failed_ || finished_ || !open_.empty(); });
                if (failed_ || open_.empty())
                    return;
                chunk = open_.front();
                unit = chunk->claimed++;
                if (chunk->claimed == chunk->units)
                    open_.pop_front();
            }
            const int first = chunk->first_piece + unit * pieces_per_unit_;
            const int last = std::min(first + pieces_per_unit_, chunk->first_piece + chunk->pieces);
            const std::int64_t begin = static_cast<std::int64_t>(first) * files_.piece_length();
            const std::int64_t end = std::min(static_cast<std::int64_t>(last) * files_.piece_length(), chunk->offset + chunk->size);
            reader->fill(begin, std::span(chunk->data.get() + (begin - chunk->offset), static_cast<std::size_t>(end - begin)));
            filled(chunk);
            for (int piece = first; piece < last; ++piece) {
                if (v2_)
                    piece_work.sha256(*chunk, piece);
                if (v1_)
                    piece_work.sha1(*chunk, piece);
            }
            complete(chunk);
        }
    }

    // Stores filled chunks until all are stored or a failure.
    void write(StreamSource& source)
    {
        for (;;) {
            Chunk* chunk = nullptr;
            {
                std::unique_lock lock(mutex_);
                store_cv_.wait(lock, [&] { return failed_ || !to_store_.empty() || (finished_ && unfilled_chunks_ == 0); });
                if (failed_ || to_store_.empty())
                    return;
                chunk = to_store_.front();
                to_store_.pop_front();
            }
            source.store(chunk->offset, std::span(chunk->data.get(), static_cast<std::size_t>(chunk->size)));
            complete(chunk);
        }
    }

    void filled(Chunk* chunk)
    {
        bool last = false;
        {
            std::lock_guard lock(mutex_);
            if (--chunk->unfilled > 0)
                return;
            unfilled_chunks_ -= 1;
            if (stores_)
                to_store_.push_back(chunk);
            // After the last chunk every writer has to see that it can end.
            last = finished_ && unfilled_chunks_ == 0;
        }
        if (last)
            store_cv_.notify_all();
        else
            store_cv_.notify_one();
    }

    void complete(Chunk* chunk)
    {
        std::lock_guard lock(mutex_);
        if (--chunk->pending == 0) {
            free_.push_back(chunk);
            free_cv_.notify_one();
        }
    }

    void finish()
    {
        {
            std::lock_guard lock(mutex_);
            finished_ = true;
        }
        work_cv_.notify_all();
        store_cv_.notify_all();
    }

    void fail(std::exception_ptr error)
    {
        {
            std::lock_guard lock(mutex_);
            if (!error_)
                error_ = std::move(error);
            failed_ = true;
        }
        work_cv_.notify_all();
        store_cv_.notify_all();
        free_cv_.notify_all();
    }

    void rethrow()
    {
        if (error_)
            std::rethrow_exception(error_);
    }

private:
    const lt::file_storage& files_;
    const bool v1_;
    const bool v2_;
    const bool stores_;
    PieceHashes& hashes_;
    const std::int64_t chunk_bytes_;
    const int pieces_per_unit_;
    std::vector<Chunk> chunks_;
    std::mutex mutex_;
    std::condition_variable work_cv_;
    std::condition_variable store_cv_;
    std::condition_variable free_cv_;
    std::vector<Chunk*> free_;
    std::deque<Chunk*> open_;     // with units to take
    std::deque<Chunk*> to_store_;
    int unfilled_chunks_ = 0; // open, with units not filled yet
    bool finished_ = false;
    bool failed_ = false;
    std::exception_ptr error_;
};

void set_hashes(lt::create_torrent& torrent, const PieceHashes& hashes)
{
    const lt::file_storage& files = torrent.files();
    for (int piece = 0; piece < files.num_pieces(); ++piece) {
        const auto index = static_cast<std::size_t>(piece);
        if (!hashes.v1.empty())
            torrent.set_hash(lt::piece_index_t(piece), hashes.v1[index]);
        if (hashes.v2.empty())
            continue;
        const lt::file_index_t file = files.file_index_at_piece(lt::piece_index_t(piece));
        if (files.pad_file_at(file))
            continue;
        const auto first_piece = static_cast<int>(files.file_offset(file) / files.piece_length());
        torrent.set_hash2(file, lt::piece_index_t::diff_type(piece - first_piece), hashes.v2[index]);
    }
}

} // namespace

void hash_pieces(lt::create_torrent& torrent, StreamSource& source, int threads)
{
    const lt::file_storage& files = torrent.files();
    const bool v1 = !torrent.is_v2_only();
    const bool v2 = !torrent.is_v1_only();
    PieceHashes hashes;
    hashes.v1.resize(v1 ? static_cast<std::size_t>(files.num_pieces()) : 0);
    hashes.v2.resize(v2 ? static_cast<std::size_t>(files.num_pieces()) : 0);
    Ring ring(files, v1, v2, source.stores(), hashes);
    {
        auto guarded = [&ring](auto body) {
            return [&ring, body] {
                try {
                    body();
                } catch (...) {
                    ring.fail(std::current_exception());
                }
            };
        };
        std::vector<std::jthread> workers;
        for (int i = 0; i < std::max(1, threads); ++i)
            workers.emplace_back(guarded([&ring, &source] { ring.work(source); }));
        for (int i = 0; source.stores() && i < writer_threads; ++i)
            workers.emplace_back(guarded([&ring, &source] { ring.write(source); }));
        try {
            ring.produce();
        } catch (...) {
            ring.fail(std::current_exception());
        }
        ring.finish();
    }
    ring.rethrow();
    set_hashes(torrent, hashes);
}

} // namespace imsp2p::swarm
