// Binding records as a core node reads them from the overlay (lib/core
// dht_location): the signed envelope checked with the overlay key, then the
// binding's JSON. Each input is tried twice: as a whole value from the DHT
// (what a hostile node can send), and as the payload of a record signed with
// the overlay key (what a buggy or older node can send), so the fuzzer
// reaches the JSON past the MAC.
#include "core/binding_record.hpp"
#include "dht/signed_record.hpp"
#include "fuzz_support.hpp"

#include <ctime>

using namespace imsp2p;

namespace {

constexpr const char* aor = "sip:alice@ims.test";

void read(const dht::Verifier& verifier, std::span<const std::uint8_t> value, std::time_t now)
{
    const auto checked = verifier.check(value, aor, now);
    if (checked.ok() && checked.record.kind == core::binding_kind)
        core::decode_binding(checked.record.payload);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto key = dht::OverlayKey::generate();
    static const dht::RecordSigner signer(key, "node1");
    static const dht::Verifier verifier(key);
    const auto now = std::time(nullptr);

    read(verifier, {data, size}, now);
    dht::decode_record({data, size});
    if (size <= dht::max_payload_size) {
        dht::Record record{aor, core::binding_kind, Bytes(data, data + size), 1, now + 600, {}};
        read(verifier, signer.sign(std::move(record)), now);
    }
    return 0;
}
