#include "license/clearkey_request.hpp"

#include <nlohmann/json.hpp>

namespace imsp2p::license {
namespace {

using json = nlohmann::json;

// Follows the depth of nesting: only values of the top object (depth 1) and
// elements of its "kids" array (depth 2) are looked at.
class Reader {
public:
    explicit Reader(std::size_t keep) : keep_(keep) {}
    ClearKeyRequest request;
    bool object = false; // the top value was an object

    bool null() { return scalar(std::nullopt); }
    bool boolean(bool) { return scalar(std::nullopt); }
    bool number_integer(json::number_integer_t) { return scalar(std::nullopt); }
    bool number_unsigned(json::number_unsigned_t) { return scalar(std::nullopt); }
    bool number_float(json::number_float_t, const json::string_t&) { return scalar(std::nullopt); }
    bool string(json::string_t& value) { return scalar(std::move(value)); }
    bool binary(json::binary_t&) { return scalar(std::nullopt); }
    bool start_object(std::size_t)
    {
        if (depth_ == 0)
            object = true;
        else
            container();
        ++depth_;
        return true;
    }
    bool end_object() { return leave(); }
    bool start_array(std::size_t)
    {
        if (depth_ == 1 && member_ == Member::kids) {
            request.kids_array = true;
            request.kid_count = 0;
            request.kids.clear();
            ++depth_;
            in_kids_ = true;
            return true;
        }
        container();
        ++depth_;
        return true;
    }
    bool end_array()
    {
        if (depth_ == 2)
            in_kids_ = false;
        return leave();
    }
    bool key(json::string_t& name)
    {
        if (depth_ == 1)
            member_ = name == "kids" ? Member::kids : name == "type" ? Member::type : Member::other;
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

private:
    enum class Member { other, kids, type };

    // A value that is not a string where one is looked at.
    void container() { scalar(std::nullopt); }

    bool scalar(std::optional<std::string> text)
    {
        if (depth_ == 2 && in_kids_) {
            if (request.kid_count++ < keep_)
                request.kids.push_back(std::move(text));
        } else if (depth_ == 1 && member_ == Member::kids) {
            request.kids_array = false; // "kids" again, not an array: the last one counts
            request.kid_count = 0;
            request.kids.clear();
        } else if (depth_ == 1 && member_ == Member::type) {
            request.type_given = true;
            request.type_temporary = text && *text == "temporary";
        }
        return true;
    }

    bool leave()
    {
        --depth_;
        return true;
    }

    std::size_t keep_;
    std::size_t depth_ = 0;
    Member member_ = Member::other;
    bool in_kids_ = false;
};

} // namespace

std::optional<ClearKeyRequest> read_clearkey_request(std::string_view body, std::size_t keep)
{
    Reader reader(keep);
    if (!json::sax_parse(body, &reader) || !reader.object)
        return std::nullopt;
    return std::move(reader.request);
}

} // namespace imsp2p::license
