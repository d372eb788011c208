// license-headers-bench: prepares the Digest answers a wrk load needs, since
// wrk's Lua has no MD5: asks the licence server for one challenge per file
// (named as the subscriber, so an aka row gets AKAv1-MD5 and the USIM
// answers it), then writes COUNT Authorization values for POST /license with
// nc = 1..COUNT, one per line. The server accepts each nc once (qop=auth),
// so every line is one authenticated request.
// Usage: license-headers-bench SERVER CSV IMPI COUNT FILE...
#include "auth/digest.hpp"
#include "auth/digest_aka.hpp"
#include "auth/digest_header.hpp"
#include "subscriber/subscriber.hpp"
#include "ue/usim_state.hpp"

#include <fmt/format.h>
#include <httplib.h>

#include <cstdio>
#include <fstream>
#include <iostream>

using namespace imsp2p;

int main(int argc, char** argv)
{
    if (argc < 6) {
        std::cerr << "usage: license-headers-bench SERVER CSV IMPI COUNT FILE...\n";
        return 2;
    }
    try {
        const std::string server = argv[1], impi = argv[3];
        const unsigned count = static_cast<unsigned>(std::stoul(argv[4]));
        const auto rows = subscriber::read_subscribers(argv[2]);
        const auto* row = subscriber::find_subscriber(rows, impi);
        if (!row)
            throw std::runtime_error("no such subscriber: " + impi);
        const bool aka = row->auth == subscriber::AuthScheme::aka;
        const auto usim = aka ? ue::make_usim(*row, std::nullopt) : nullptr;
        httplib::Client client(server);
        for (int f = 5; f < argc; ++f) {
            const httplib::Headers headers{
                {"Authorization", fmt::format(R"(Digest username="{}", realm="", nonce="", uri="/license", response="")", impi)}};
            const auto result = client.Post("/license", headers, "{}", "application/json");
            if (!result || result->status != 401)
                throw std::runtime_error("no 401 challenge from " + server);
            std::optional<auth::Challenge> challenge;
            const auto [first, last] = result->headers.equal_range("WWW-Authenticate");
            for (auto it = first; it != last; ++it) {
                auto c = auth::parse_challenge(it->second);
                if (c && (c->parsed_algorithm.aka == 1) == aka && c->parsed_algorithm.hash == auth::DigestHash::md5)
                    challenge = c;
            }
            if (!challenge)
                throw std::runtime_error("no usable challenge");
            std::string password = row->password;
            if (aka) {
                const auto nonce = auth::decode_aka_nonce(challenge->nonce);
                const auto answer = usim->authenticate(nonce->rand, nonce->autn);
                if (answer.status != aka::Usim::Status::ok)
                    throw std::runtime_error("the USIM refused the challenge");
                password = auth::aka_password(1, answer.res, answer.ik, answer.ck);
            }
            std::ofstream out(argv[f]);
            const std::string cnonce = auth::make_cnonce();
            for (unsigned nc = 1; nc <= count; ++nc)
                out << auth::digest_credentials(*challenge, {impi, password, "POST", "/license", cnonce, nc, {}}) << '\n';
            if (!out.flush())
                throw std::runtime_error(std::string("cannot write ") + argv[f]);
        }
    } catch (const std::exception& error) {
        std::cerr << "license-headers-bench: " << error.what() << '\n';
        return 1;
    }
    return 0;
}
