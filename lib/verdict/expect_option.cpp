#include "verdict/expect_option.hpp"

#include "sip/trace_writer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace imsp2p::verdict {
namespace {

struct Transaction {
    std::string call_id;
    std::string cseq; // "NUMBER METHOD"
};

Transaction transaction_of(const SipMessage& message)
{
    Transaction t;
    for (const auto& [name, value] : message.headers) {
        if (name == "Call-ID")
            t.call_id = value;
        else if (name == "CSeq") {
            // Normalise the whitespace between number and method.
            const auto space = value.find_first_of(" \t");
            const auto method = value.find_first_not_of(" \t", space);
            t.cseq = space == std::string::npos || method == std::string::npos ? value
                                                                               : value.substr(0, space) + " " + value.substr(method);
        }
    }
    return t;
}

std::string cseq_method(const std::string& cseq)
{
    const auto space = cseq.find(' ');
    return space == std::string::npos ? std::string() : cseq.substr(space + 1);
}

} // namespace

std::optional<Checked> find_final_response(const std::vector<sip::TracedMessage>& trace, const std::string& method)
{
    for (auto it = trace.rbegin(); it != trace.rend(); ++it) {
        if (it->sent)
            continue;
        auto message = parse_sip_message(it->data);
        const auto transaction = transaction_of(message);
        if (message.status < 200 || cseq_method(transaction.cseq) != method)
            continue;
        Checked checked{std::move(message), std::nullopt};
        // The request's first transmission: retransmissions count in the response time.
        for (const auto& sent : trace) {
            if (!sent.sent || sent.time_us > it->time_us)
                continue;
            const auto request = parse_sip_message(sent.data);
            if (request.status == 0 && !request.first_line.empty()) {
                const auto ours = transaction_of(request);
                if (ours.call_id == transaction.call_id && ours.cseq == transaction.cseq) {
                    checked.response_ms = static_cast<double>(it->time_us - sent.time_us) / 1000.0;
                    break;
                }
            }
        }
        return checked;
    }
    return std::nullopt;
}

ExpectOption::ExpectOption(CLI::App& app)
{
    option_ = app.add_option("--expect", texts_,
                             "Check the final response (repeatable): status=CODE|Nxx, header:NAME, header:NAME~REGEX, "
                             "time<MS; prints PASS/FAIL per check, exit 1 on any FAIL")
                  ->type_name("CHECK")
                  ->allow_extra_args(false)
                  ->check([](const std::string& text) {
                      try {
                          parse_check(text);
                          return std::string();
                      } catch (const std::invalid_argument& error) {
                          return std::string(error.what());
                      }
                  });
}

Outcome ExpectOption::run(const std::string& method, cli::Output& out, const std::function<Outcome()>& body)
{
    if (texts_.empty())
        return body();
    std::vector<Check> checks;
    for (const auto& text : texts_)
        checks.push_back(parse_check(text));
    sip::TraceWriter::instance().keep_messages();

    // A rejection or a failed authentication may be what the test expects:
    // the checks decide. Anything else (no answer, local error) stays.
    std::optional<Failure> failure;
    try {
        body();
    } catch (const Failure& caught) {
        if (caught.outcome() == Outcome::usage || caught.outcome() == Outcome::local)
            throw;
        failure = caught;
    }
    // The stacks are gone by now: the trace holds every message.
    const auto checked = find_final_response(sip::TraceWriter::instance().messages(), method);
    if (failure && checked)
        spdlog::info("{}", failure->what());
    bool all_pass = true;
    for (const auto& check : checks) {
        const auto verdict = evaluate(check, checked ? &checked->message : nullptr, checked ? checked->response_ms : std::nullopt);
        all_pass = all_pass && verdict.pass;
        nlohmann::json fields{{"check", verdict.check},
                              {"result", verdict.pass ? "pass" : "fail"},
                              {"message", verdict.message.empty() ? nlohmann::json() : nlohmann::json(verdict.message)},
                              {"actual", verdict.actual.empty() ? nlohmann::json() : nlohmann::json(verdict.actual)}};
        if (!verdict.pass)
            fields["reason"] = verdict.reason;
        std::string text = fmt::format("{} {}", verdict.pass ? "PASS" : "FAIL", verdict.check);
        if (!verdict.message.empty())
            text += fmt::format(" on \"{}\"", verdict.message);
        if (!verdict.pass)
            text += fmt::format(": {}", verdict.reason);
        out.event("check", fields, text + "\n");
    }
    if (!checked && failure)
        throw *failure;
    return all_pass ? Outcome::ok : Outcome::negative;
}

} // namespace imsp2p::verdict
