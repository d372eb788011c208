#include "cli/outcome.hpp"
#include "subscriber/subscriber.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

namespace imsp2p::subscriber {
namespace {

struct Field {
    std::string text;
    int column = 1; // 1-based column of the field's first character
};

class RowError {
public:
    RowError(const std::string& source, int line) : source_(source), line_(line) {}
    [[noreturn]] void fail(int column, const std::string& message) const
    {
        throw Failure(Outcome::usage, fmt::format("{}:{}:{}: {}", source_, line_, column, message));
    }

private:
    const std::string& source_;
    int line_;
};

// Splits one CSV line (RFC 4180 quoting, without embedded newlines).
std::vector<Field> split_line(const std::string& line, const RowError& error)
{
    std::vector<Field> fields;
    size_t i = 0;
    while (true) {
        Field field;
        field.column = static_cast<int>(i) + 1;
        if (i < line.size() && line[i] == '"') {
            ++i;
            while (true) {
                if (i >= line.size())
                    error.fail(field.column, "unterminated quoted field");
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        field.text += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                field.text += line[i++];
            }
            if (i < line.size() && line[i] != ',')
                error.fail(static_cast<int>(i) + 1, "unexpected character after a quoted field");
        } else {
            while (i < line.size() && line[i] != ',')
                field.text += line[i++];
        }
        fields.push_back(std::move(field));
        if (i >= line.size())
            break;
        ++i; // the comma
    }
    return fields;
}

constexpr std::array<const char*, 9> known_columns{"impi", "impus", "auth", "password", "k", "op", "opc", "amf", "sqn"};

Bytes hex_field(const Field& field, const char* name, size_t bytes, const RowError& error)
{
    auto decoded = from_hex(field.text);
    if (!decoded || decoded->size() != bytes)
        error.fail(field.column, fmt::format("{} must be {} hex digits", name, bytes * 2));
    return *decoded;
}

} // namespace

std::vector<Subscriber> parse_subscribers(std::istream& input, const std::string& source)
{
    std::vector<Subscriber> subscribers;
    std::map<std::string, int> column_of; // column name → field index
    std::map<std::string, int> impi_line;
    std::string line;
    int line_number = 0;
    while (std::getline(input, line)) {
        ++line_number;
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || line[0] == '#')
            continue;
        const RowError error(source, line_number);
        std::vector<Field> fields = split_line(line, error);

        if (column_of.empty()) {
            for (size_t i = 0; i < fields.size(); ++i) {
                const std::string& name = fields[i].text;
                if (std::find(known_columns.begin(), known_columns.end(), name) == known_columns.end())
                    error.fail(fields[i].column, fmt::format("unknown column '{}' in header (expected "
                                                             "impi,impus,auth,password,k,op,opc,amf,sqn)",
                                                             name));
                if (!column_of.emplace(name, static_cast<int>(i)).second)
                    error.fail(fields[i].column, fmt::format("column '{}' appears twice in header", name));
            }
            for (const char* required : {"impi", "impus", "auth"})
                if (!column_of.count(required))
                    error.fail(1, fmt::format("header lacks the '{}' column", required));
            continue;
        }

        if (fields.size() != column_of.size())
            error.fail(fields.back().column + static_cast<int>(fields.back().text.size()),
                       fmt::format("{} fields where the header has {}", fields.size(), column_of.size()));
        auto get = [&](const char* name) -> const Field* {
            auto it = column_of.find(name);
            return it == column_of.end() ? nullptr : &fields[static_cast<size_t>(it->second)];
        };

        Subscriber row;
        row.line = line_number;
        const Field& impi = *get("impi");
        if (impi.text.empty() || impi.text.find_first_of(" \t;<>\"") != std::string::npos)
            error.fail(impi.column, fmt::format("invalid private identity '{}'", impi.text));
        row.impi = impi.text;
        if (auto [it, inserted] = impi_line.emplace(row.impi, line_number); !inserted)
            error.fail(impi.column, fmt::format("private identity '{}' already defined on line {}", row.impi, it->second));

        const Field& impus = *get("impus");
        size_t start = 0;
        while (start <= impus.text.size()) {
            size_t end = impus.text.find(';', start);
            if (end == std::string::npos)
                end = impus.text.size();
            std::string impu = impus.text.substr(start, end - start);
            if (!(impu.starts_with("sip:") || impu.starts_with("sips:") || impu.starts_with("tel:")) || impu.size() < 6)
                error.fail(impus.column + static_cast<int>(start),
                           fmt::format("invalid public identity '{}' (expected sip:, sips: or tel: URI)", impu));
            row.impus.push_back(std::move(impu));
            start = end + 1;
        }

        const Field& auth = *get("auth");
        if (auth.text == "md5")
            row.auth = AuthScheme::md5;
        else if (auth.text == "aka")
            row.auth = AuthScheme::aka;
        else
            error.fail(auth.column, fmt::format("auth must be md5 or aka, not '{}'", auth.text));

        const Field* password = get("password");
        if (password)
            row.password = password->text;
        if (row.auth == AuthScheme::md5 && row.password.empty())
            error.fail(password ? password->column : 1, "md5 subscriber without a password");

        if (const Field* k = get("k"); k && !k->text.empty())
            row.k = hex_field(*k, "k", 16, error);
        if (const Field* op = get("op"); op && !op->text.empty())
            row.op = hex_field(*op, "op", 16, error);
        if (const Field* opc = get("opc"); opc && !opc->text.empty())
            row.opc = hex_field(*opc, "opc", 16, error);
        if (const Field* amf = get("amf"); amf && !amf->text.empty())
            row.amf = hex_field(*amf, "amf", 2, error);
        if (const Field* sqn = get("sqn"); sqn && !sqn->text.empty())
            row.sqn = hex_field(*sqn, "sqn", 6, error);
        if (row.auth == AuthScheme::aka) {
            if (row.k.empty())
                error.fail(1, "aka subscriber without k");
            if (row.op.empty() == row.opc.empty())
                error.fail(1, "aka subscriber needs exactly one of op and opc");
            if (row.amf.empty())
                row.amf = Bytes{0x80, 0x00}; // TS 33.102: the separation bit set for E-UTRAN/IMS use
            if (row.sqn.empty())
                row.sqn = Bytes(6, 0);
        }
        subscribers.push_back(std::move(row));
    }
    if (input.bad())
        throw Failure(Outcome::usage, fmt::format("{}: read error", source));
    if (column_of.empty())
        throw Failure(Outcome::usage, fmt::format("{}: no header line (impi,impus,auth,...)", source));
    return subscribers;
}

std::vector<Subscriber> read_subscribers(const std::filesystem::path& path)
{
    std::ifstream file(path);
    if (!file)
        throw Failure(Outcome::usage, fmt::format("cannot read subscriber file {}: {}", path.string(), std::strerror(errno)));
    if (std::filesystem::is_directory(path))
        throw Failure(Outcome::usage, fmt::format("cannot read subscriber file {}: Is a directory", path.string()));
    return parse_subscribers(file, path.string());
}

const Subscriber* find_subscriber(const std::vector<Subscriber>& subscribers, const std::string& impi)
{
    for (const auto& row : subscribers)
        if (row.impi == impi)
            return &row;
    return nullptr;
}

} // namespace imsp2p::subscriber
