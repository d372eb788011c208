#include "dht/state_files.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace imsp2p::dht {

std::string read_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in)
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    std::ostringstream data;
    data << in.rdbuf();
    if (in.bad())
        throw Failure(Outcome::usage, fmt::format("{}: cannot read: {}", file.string(), std::strerror(errno)));
    return data.str();
}

void write_file(const std::filesystem::path& file, const std::string& data, unsigned mode, bool exclusive)
{
    const auto fail = [&](int error) {
        return Failure(Outcome::local, fmt::format("{}: cannot write: {}", file.string(), std::strerror(error)));
    };
    if (exclusive && std::filesystem::exists(file))
        throw Failure(Outcome::usage, fmt::format("{}: already exists (refusing to overwrite it)", file.string()));
    const auto temporary = std::filesystem::path(file.string() + ".tmp");
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
    if (fd < 0)
        throw fail(errno);
    // A temporary file left by a crash may carry a wider mode: set ours.
    bool ok = ::fchmod(fd, static_cast<mode_t>(mode)) == 0;
    for (std::size_t done = 0; ok && done < data.size();) {
        const auto n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        done += ok ? static_cast<std::size_t>(n) : 0;
    }
    const int error = errno;
    if (::close(fd) != 0 && ok)
        ok = false;
    if (!ok || ::rename(temporary.c_str(), file.c_str()) != 0) {
        const int cause = ok ? errno : error;
        ::unlink(temporary.c_str());
        throw fail(cause);
    }
}

} // namespace imsp2p::dht
