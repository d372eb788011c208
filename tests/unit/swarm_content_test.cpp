// The encrypted content format (docs/content-format.md) and Clear Key licences.
#include "cli/outcome.hpp"
#include "swarm/clearkey_license.hpp"
#include "swarm/content_cipher.hpp"
#include "util/hex.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

using namespace imsp2p;
using namespace imsp2p::swarm;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string pattern = (fs::temp_directory_path() / "imsp2p-swarm-XXXXXX").string();
        path = mkdtemp(pattern.data());
    }
    ~TempDir() { fs::remove_all(path); }
};

std::string slurp(const fs::path& file)
{
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void spit(const fs::path& file, const std::string& data)
{
    std::ofstream(file, std::ios::binary) << data;
}

std::string pseudo_random(std::size_t size)
{
    std::mt19937 generator(42);
    std::string out(size, '\0');
    for (auto& c : out)
        c = static_cast<char>(generator());
    return out;
}

Outcome outcome_of(const std::function<void()>& body)
{
    try {
        body();
    } catch (const Failure& failure) {
        return failure.outcome();
    }
    return Outcome::ok;
}

} // namespace

TEST_CASE("AES-128-CTR matches the NIST SP 800-38A F.5.1 vector")
{
    const auto key = from_hex("2b7e151628aed2a6abf7158809cf4f3c").value();
    const auto iv = from_hex("f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff").value();
    const auto plain = from_hex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51").value();
    Key k{};
    Iv i{};
    std::copy(key.begin(), key.end(), k.begin());
    std::copy(iv.begin(), iv.end(), i.begin());
    CtrCipher cipher(k, i);
    Bytes out(plain.size());
    // Two calls, split inside a block: the key stream continues across them.
    cipher.apply(plain.data(), out.data(), 5);
    cipher.apply(plain.data() + 5, out.data() + 5, plain.size() - 5);
    CHECK(to_hex(out) == "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff");
}

TEST_CASE("AES-128-CTR seek gives the key stream of the sequential pass, carries included")
{
    // Counters just below a carry out of the low 32 and 64 bits and out of all 128.
    for (const char* iv_hex : {"000102030405060708090a0bfffffff0", "0001020304050607fffffffffffffffe",
                               "fffffffffffffffffffffffffffffff8"}) {
        INFO(iv_hex);
        Key key{};
        key[0] = 7;
        const auto iv_bytes = from_hex(iv_hex).value();
        Iv iv{};
        std::copy(iv_bytes.begin(), iv_bytes.end(), iv.begin());
        Bytes plain(4096);
        for (std::size_t i = 0; i < plain.size(); ++i)
            plain[i] = static_cast<std::uint8_t>(i * 31);
        Bytes whole(plain.size());
        CtrCipher(key, iv).apply(plain.data(), whole.data(), plain.size());
        CtrCipher cipher(key, iv);
        for (const std::size_t offset : {std::size_t{4000}, std::size_t{0}, std::size_t{17}, std::size_t{256}, std::size_t{255}}) {
            Bytes part(plain.size() - offset);
            cipher.seek(offset);
            cipher.apply(plain.data() + offset, part.data(), part.size());
            CHECK(std::equal(part.begin(), part.end(), whole.begin() + static_cast<std::ptrdiff_t>(offset)));
        }
    }
}

TEST_CASE("content header round trip and key check")
{
    const Kid kid = random_kid();
    const Key key = random_key();
    const Iv iv{};
    const auto header = make_header(kid, key, iv, 0x0102030405060708ULL);
    const auto bytes = encode_header(header);
    CHECK(bytes.size() == 64);
    CHECK(std::string(bytes.begin(), bytes.begin() + 7) == "IMSPENC");
    CHECK(bytes[7] == 1);
    CHECK(bytes[40] == 0x01);
    CHECK(bytes[47] == 0x08);
    const auto decoded = decode_header(bytes);
    REQUIRE(decoded);
    CHECK(decoded->kid == kid);
    CHECK(decoded->plaintext_size == 0x0102030405060708ULL);
    CHECK(key_matches(*decoded, key));
    CHECK_FALSE(key_matches(*decoded, random_key()));
    CHECK_FALSE(decode_header(std::span(bytes.data(), 63)));
    auto future = bytes;
    future[7] = 2;
    CHECK(outcome_of([&] { decode_header(future); }) == Outcome::usage);
    // A tampered plaintext length no longer matches the key check.
    auto tampered = bytes;
    tampered[47] ^= 1;
    CHECK_FALSE(key_matches(*decode_header(tampered), key));
}

TEST_CASE("encrypt and decrypt round trip")
{
    TempDir dir;
    const Kid kid = random_kid();
    const Key key = random_key();
    for (const std::size_t size : {std::size_t{1}, std::size_t{15}, std::size_t{16}, std::size_t{4097},
                                   std::size_t{(1 << 20) + 17}, std::size_t{3 << 20}}) {
        const std::string plain = pseudo_random(size);
        spit(dir.path / "plain", plain);
        const auto header = encrypt_file(dir.path / "plain", dir.path / "cipher", kid, key);
        CHECK(header.plaintext_size == size);
        const std::string cipher = slurp(dir.path / "cipher");
        REQUIRE(cipher.size() == size + header_size);
        CHECK(cipher.substr(header_size) != plain);
        CHECK(read_content_header(dir.path / "cipher").kid == kid);
        decrypt_file(dir.path / "cipher", dir.path / "out", key);
        CHECK(slurp(dir.path / "out") == plain);
    }
    // A fresh IV per file: the same plaintext encrypts differently.
    encrypt_file(dir.path / "plain", dir.path / "cipher2", kid, key);
    CHECK(slurp(dir.path / "cipher") != slurp(dir.path / "cipher2"));
}

TEST_CASE("truncated ciphertext is detected and leaves no output")
{
    TempDir dir;
    const Key key = random_key();
    spit(dir.path / "plain", pseudo_random(100000));
    encrypt_file(dir.path / "plain", dir.path / "cipher", random_kid(), key);
    std::string cipher = slurp(dir.path / "cipher");
    spit(dir.path / "short", cipher.substr(0, cipher.size() - 1));
    CHECK(outcome_of([&] { decrypt_file(dir.path / "short", dir.path / "out", key); }) == Outcome::negative);
    CHECK_FALSE(fs::exists(dir.path / "out"));
    // Cut inside the header too.
    spit(dir.path / "stub", cipher.substr(0, 30));
    CHECK(outcome_of([&] { decrypt_file(dir.path / "stub", dir.path / "out", key); }) == Outcome::negative);
    // Trailing garbage is an error as well.
    spit(dir.path / "long", cipher + "x");
    CHECK(outcome_of([&] { decrypt_file(dir.path / "long", dir.path / "out", key); }) == Outcome::negative);
    CHECK_FALSE(fs::exists(dir.path / "out"));
    // Nothing left behind beside the output either.
    for (const auto& entry : fs::directory_iterator(dir.path))
        CHECK(entry.path().filename().string().find(".part") == std::string::npos);
}

TEST_CASE("a wrong key is refused and the output left untouched")
{
    TempDir dir;
    spit(dir.path / "plain", "secret content");
    encrypt_file(dir.path / "plain", dir.path / "cipher", random_kid(), random_key());
    spit(dir.path / "out", "old");
    CHECK(outcome_of([&] { decrypt_file(dir.path / "cipher", dir.path / "out", random_key()); }) == Outcome::auth);
    CHECK(slurp(dir.path / "out") == "old");
}

TEST_CASE("a plain file is not taken for ciphertext")
{
    TempDir dir;
    spit(dir.path / "plain", "just some text, longer than a header would be ............................");
    CHECK(outcome_of([&] { read_content_header(dir.path / "plain"); }) == Outcome::usage);
    CHECK(outcome_of([&] { read_content_header(dir.path / "missing"); }) == Outcome::usage);
}

TEST_CASE("Clear Key licences")
{
    CHECK(base64url_encode(reinterpret_cast<const std::uint8_t*>("\xfb\xff"), 2) == "-_8");
    CHECK(base64url_decode("-_8") == Bytes{0xfb, 0xff});
    CHECK(base64url_decode("-_8=") == Bytes{0xfb, 0xff});
    CHECK_FALSE(base64url_decode("+/8"));

    const LicenseKey entry{random_kid(), random_key()};
    const std::string json = license_json({entry});
    CHECK(json.starts_with("{\"keys\":[{\"kty\":\"oct\",\"kid\":\""));
    const auto parsed = parse_license(json, "test");
    REQUIRE(parsed.size() == 1);
    CHECK(find_key(parsed, entry.kid) == entry.key);
    CHECK_FALSE(find_key(parsed, random_kid()));
    const LicenseKey second{random_kid(), random_key()};
    const auto both = parse_license(license_json({entry, second}), "test");
    REQUIRE(both.size() == 2);
    CHECK(find_key(both, second.kid) == second.key);
    CHECK(license_json({entry}) == nlohmann::ordered_json::parse(json).dump() + "\n"); // compact, as the JSON library writes it

    // The W3C Clear Key example (EME §9.1.4): 16-byte kid and key.
    const auto w3c = parse_license(R"({"keys":[{"kty":"oct","k":"tQ0bJVWb6b0KPL6KtZIy_A","kid":"LwVHf8JLtPrv2GUXFW2v_A"}],"type":"temporary"})",
                                   "w3c");
    CHECK(to_hex(w3c.front().kid.data(), 16) == "2f05477fc24bb4faefd86517156daffc");

    for (const char* bad : {"", "[]", "{}", R"({"keys":[]})", R"({"keys":[{"kty":"RSA","kid":"AA","k":"AA"}]})",
                            R"({"keys":[{"kty":"oct","kid":"AAAA","k":"tQ0bJVWb6b0KPL6KtZIy_A"}]})",
                            R"({"keys":[{"kty":"oct","kid":"LwVHf8JLtPrv2GUXFW2v_A"}]})"}) {
        INFO(bad);
        CHECK(outcome_of([&] { parse_license(bad, "bad"); }) == Outcome::usage);
    }
    try {
        parse_license(R"({"keys":[{"kty":"oct","kid":"AAAA","k":"x"}]})", "lic.json");
        FAIL("accepted");
    } catch (const Failure& failure) {
        CHECK(std::string(failure.what()) == "lic.json: not a Clear Key licence: keys[0]: \"kid\" has 3 bytes, not 16");
    }
}
