#include "swarm/file_source.hpp"

#include "cli/outcome.hpp"
#include "swarm/file_reader.hpp"

#include <libtorrent/file_storage.hpp>


namespace imsp2p::swarm {
namespace {

class FilesReader final : public StreamSource::Reader {
public:
    FilesReader(const lt::file_storage& files, const std::string& save_path) : files_(files), save_path_(save_path) {}

    void fill(std::int64_t offset, std::span<std::uint8_t> out) override
    {
        zero_pads(files_, offset, out);
        for_each_part(files_, offset, out, [&](lt::file_index_t file, std::int64_t at, std::span<std::uint8_t> part) {
            if (file != open_) {
                reader_.open(files_.file_path(file, save_path_), Outcome::local);
                open_ = file;
            }
            reader_.read(at, part);
        });
    }

private:
    const lt::file_storage& files_;
    const std::string& save_path_;
    FileReader reader_;
    lt::file_index_t open_{-1};
};

class FileSource final : public StreamSource {
public:
    FileSource(const lt::file_storage& files, std::string save_path) : files_(files), save_path_(std::move(save_path)) {}

    std::unique_ptr<Reader> reader() const override { return std::make_unique<FilesReader>(files_, save_path_); }

private:
    const lt::file_storage& files_;
    const std::string save_path_;
};

} // namespace

std::unique_ptr<StreamSource> file_source(const lt::file_storage& files, std::string save_path)
{
    return std::make_unique<FileSource>(files, std::move(save_path));
}

} // namespace imsp2p::swarm
