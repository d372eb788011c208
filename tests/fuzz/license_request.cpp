// Requests to license-server (lib/license LicenseService, as the HTTP
// handler of server_command.cpp fills them from httplib's parse). An input is
//   METHOD\nTARGET\nREQUEST-ID\nAUTHORIZATION\nBODY...
// with an empty AUTHORIZATION line meaning "answer the server's challenge
// as alice would": the request is sent once without credentials, and again
// with a correct Digest answer, so the fuzzer reaches the JSON handling of
// POST /license and PUT /keys/KID behind the authentication. alice is a
// publisher with a balance, and one free content is deposited.
#include "auth/digest.hpp"
#include "auth/digest_header.hpp"
#include "fuzz_support.hpp"
#include "license/license_service.hpp"

#include <fmt/format.h>

using namespace imsp2p;
using namespace imsp2p::license;

namespace {

struct Server {
    test::TempDir dir;
    hss::SubscriberStore store{dir.path() / "hss.sqlite"};
    MasterKey master{std::string(16, 'm')};
    LicenseDb db{dir.path() / "license.sqlite"};
    CdrWriter cdrs{dir.path() / "license.sqlite", 16};
    std::unique_ptr<HttpAuthenticator> auth;
    std::unique_ptr<LicenseService> service;
    unsigned nonce_count = 0;

    Server()
    {
        fuzz::quiet();
        store.import(test::rows("alice@ims.test,sip:alice@ims.test,md5,alice-secret,,,,,\n"));
        HttpAuthConfig config;
        config.realm = "ims.test";
        // Failed answers are the fuzzer's daily bread: never throttle them.
        config.max_failures = config.max_address_failures = 1'000'000'000;
        auth = std::make_unique<HttpAuthenticator>(store, config);
        service = std::make_unique<LicenseService>(*auth, db, cdrs, master);
        db.set_publisher("alice@ims.test", true);
        db.add_balance("alice@ims.test", 1'000'000'000);
        Content content;
        content.kid = std::string(16, 'k');
        content.content_id = "film";
        content.owner = "alice@ims.test";
        content.sealed_key = master.seal(content.kid, std::string(16, 'K'));
        db.put_content(content);
    }

    // A's Digest answer to the MD5 challenge of a 401, or "" when there is none.
    std::string answer(const Reply& reply, const Request& request)
    {
        for (const auto& [name, value] : reply.headers) {
            const auto challenge = name == "WWW-Authenticate" ? auth::parse_challenge(value) : std::nullopt;
            if (!challenge || challenge->parsed_algorithm.hash != auth::DigestHash::md5)
                continue;
            const auth::DigestAnswer digest{"alice@ims.test", "alice-secret", request.method, request.target, "c0ffee",
                                            ++nonce_count, {}};
            return auth::digest_credentials(*challenge, digest);
        }
        return {};
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static Server server;
    const auto input = fuzz::text(data, size);
    fuzz::Fields fields(input);
    Request request;
    request.method = fields.next_line();
    request.target = fields.next_line();
    request.request_id = fields.next_line();
    request.authorization = fields.next_line();
    request.body = fields.rest();
    request.source = "127.0.130.9";
    const bool authenticate = request.authorization.empty();
    const auto reply = server.service->handle(request);
    if (authenticate && reply.status == 401) {
        request.authorization = server.answer(reply, request);
        if (!request.authorization.empty())
            server.service->handle(request);
    }
    return 0;
}
