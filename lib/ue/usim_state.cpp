#include "ue/usim_state.hpp"

#include "cli/outcome.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace imsp2p::ue {

std::optional<std::filesystem::path> default_usim_state_path(const std::string& impi)
{
    std::filesystem::path base;
    if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state)
        base = state;
    else if (const char* home = std::getenv("HOME"); home && *home)
        base = std::filesystem::path(home) / ".local" / "state";
    else
        return std::nullopt;
    return base / "imsp2p" / "usim" / (impi + ".json");
}

std::shared_ptr<aka::Usim> make_usim(const subscriber::Subscriber& row, const std::optional<std::filesystem::path>& state)
{
    const aka::Block k = aka::to_block(row.k, "k");
    const aka::Block opc = row.opc.empty() ? aka::Milenage::opc_from_op(k, aka::to_block(row.op, "op"))
                                           : aka::to_block(row.opc, "opc");
    auto usim = std::make_shared<aka::Usim>(aka::Milenage(k, opc));

    std::array<std::uint64_t, aka::ind_count> seq_ms{};
    seq_ms.fill(aka::seq_of(aka::sqn_to_int(aka::to_sqn(row.sqn, "sqn"))));
    if (state && std::filesystem::exists(*state)) {
        std::ifstream file(*state);
        try {
            const auto json = nlohmann::json::parse(file);
            const auto& values = json.at("seq_ms");
            if (!values.is_array() || values.size() != aka::ind_count)
                throw std::runtime_error(fmt::format("seq_ms must be an array of {} numbers", aka::ind_count));
            for (size_t i = 0; i < aka::ind_count; ++i)
                seq_ms[i] = values[i].get<std::uint64_t>();
        } catch (const std::exception& error) {
            throw Failure(Outcome::usage, fmt::format("malformed USIM state {}: {}", state->string(), error.what()));
        }
    }
    usim->set_seq_ms(seq_ms);
    return usim;
}

void save_usim_state(const aka::Usim& usim, const std::string& impi, const std::filesystem::path& state)
{
    std::error_code error;
    std::filesystem::create_directories(state.parent_path(), error);
    const std::filesystem::path temporary = state.string() + ".tmp";
    {
        std::ofstream file(temporary, std::ios::trunc);
        file << nlohmann::json{{"impi", impi}, {"seq_ms", usim.seq_ms()}}.dump() << '\n';
        file.flush();
        if (!file)
            throw Failure(Outcome::local, fmt::format("cannot write USIM state {}: {}", temporary.string(), std::strerror(errno)));
    }
    std::filesystem::rename(temporary, state, error);
    if (error)
        throw Failure(Outcome::local, fmt::format("cannot write USIM state {}: {}", state.string(), error.message()));
}

} // namespace imsp2p::ue
