// The W3C Clear Key licence request {"kids":[...],"type":"temporary"}, read
// with nlohmann's SAX parser: the same strict JSON grammar as json::parse
// (UTF-8, nesting, trailing text), without building a tree of the body on
// every licence. Only its shape is recorded here; LicenseService judges it.
// A key given twice counts with its last value, as json::parse has it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace imsp2p::license {

struct ClearKeyRequest {
    bool kids_array = false;    // "kids" is there and an array
    std::size_t kid_count = 0;  // its elements
    std::vector<std::optional<std::string>> kids; // the first `keep` elements: the text of a string, nullopt for any other value
    bool type_given = false;    // "type" is there
    bool type_temporary = false; // ... and is the string "temporary"
};

// nullopt when the body is not JSON, or not an object. Of "kids", only the
// first `keep` elements are kept (the rest are counted).
std::optional<ClearKeyRequest> read_clearkey_request(std::string_view body, std::size_t keep);

} // namespace imsp2p::license
