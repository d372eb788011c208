#include "license/client_credentials.hpp"

#include "cli/outcome.hpp"
#include "subscriber/subscriber.hpp"
#include "ue/register_command.hpp"
#include "ue/usim_state.hpp"

#include <fmt/format.h>

namespace imsp2p::license {

ClientCredentials resolve_credentials(const CredentialOptions& options)
{
    auto usage = [](const std::string& message) { return Failure(Outcome::usage, message); };
    CredentialOptions o = options;
    if (!o.registration.empty() && o.impi.empty()) {
        const auto registration = ue::read_registration(o.registration);
        const auto impi = registration.find("impi");
        if (impi == registration.end() || !impi->is_string() || impi->get<std::string>().empty())
            throw usage("--registration: the registered event names no \"impi\"");
        o.impi = impi->get<std::string>();
    }
    if (o.impi.empty())
        throw usage("--impi ID is required: the private identity to authenticate as (the Digest username), "
                    "or --registration FILE");
    subscriber::Subscriber row;
    if (!o.subscribers.empty()) {
        const auto rows = subscriber::read_subscribers(o.subscribers);
        const auto* found = subscriber::find_subscriber(rows, o.impi);
        if (!found)
            throw usage(fmt::format("no subscriber '{}' in {}", o.impi, o.subscribers));
        row = *found;
    } else if (!o.k.empty()) {
        if (o.op.empty() == o.opc.empty())
            throw usage("--k needs exactly one of --op and --opc");
        auto hex = [&](const std::string& text, const char* what) {
            auto bytes = from_hex(text);
            if (!bytes || bytes->size() != 16)
                throw usage(fmt::format("{} must be 32 hex digits", what));
            return *bytes;
        };
        row.impi = o.impi;
        row.auth = subscriber::AuthScheme::aka;
        row.k = hex(o.k, "--k");
        (o.op.empty() ? row.opc : row.op) = hex(o.op.empty() ? o.opc : o.op, o.op.empty() ? "--opc" : "--op");
        row.amf = Bytes{0x80, 0x00};
        row.sqn = Bytes(6, 0);
    } else if (!o.password.empty()) {
        row.impi = o.impi;
        row.password = o.password;
    } else {
        throw usage("missing credentials: give --password, --k with --op or --opc, or --subscribers FILE");
    }
    ClientCredentials credentials;
    credentials.impi = row.impi;
    if (row.auth == subscriber::AuthScheme::aka) {
        credentials.usim_state = o.usim_state.empty() ? ue::default_usim_state_path(row.impi)
                                                      : std::optional<std::filesystem::path>(o.usim_state);
        credentials.usim = ue::make_usim(row, credentials.usim_state);
    } else {
        credentials.password = o.password.empty() ? row.password : o.password;
    }
    return credentials;
}

} // namespace imsp2p::license
