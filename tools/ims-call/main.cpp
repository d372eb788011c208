// ims-call: IMS UE sessions — originate and answer calls with SDP and RTP, send MESSAGEs.
#include "call/call_command.hpp"
#include "cli/tls_options.hpp"
#include "cli/tool.hpp"
#include "sip/trace_option.hpp"
#include "verdict/expect_option.hpp"

int main(int argc, char** argv)
{
    using namespace imsp2p;
    cli::Tool tool("ims-call", "Place and answer SIP/IMS calls with SDP and RTP, and send pager-mode MESSAGEs");
    auto& app = tool.app();
    call::CallOptions o;

    app.add_option("target", o.target,
                   "URI to call or send the MESSAGE to, e.g. sip:bob@ims.test (load mode with --subscribers: optional)")->type_name("URI");
    app.add_option("--impu", o.impu, "Our public user identity (From), e.g. sip:alice@ims.test")->type_name("URI");
    app.add_option("--impi", o.impi, "Private identity, the Digest username (default: user@domain of the IMPU)")
        ->type_name("ID");
    app.add_option("--password", o.password, "Digest password (prefer --subscribers: it stays out of ps)")
        ->type_name("SECRET");
    app.add_option("--subscribers", o.subscribers, "Subscriber CSV (impi,impus,auth,password,...) to take credentials from")
        ->type_name("FILE");
    app.add_option("--usim-state", o.usim_state,
                   "SEQ_MS file of an aka subscriber's USIM (default: the one ims-register keeps for the IMPI)")
        ->type_name("FILE");
    app.add_option("--registration", o.registration,
                   "The JSON output of ims-register (- for stdin): identity, local address, Service-Route, P-Associated-URI")
        ->type_name("FILE");
    app.add_option("--preferred-identity", o.preferred_identity,
                   "P-Preferred-Identity (default: the first P-Associated-URI, else the IMPU)")
        ->type_name("URI");
    app.add_option("--proxy", o.proxy, "Outbound proxy (P-CSCF) every request is sent to")->type_name("URI");
    ue::add_core_discovery_options(app, o.core);
    app.add_option("--local", o.local, "Local ADDRESS[:PORT] to send from (default: the registration's, or the address that reaches the proxy)")
        ->type_name("ADDR");
    app.add_option("--user-agent", o.user_agent, "User-Agent header value")->type_name("TEXT");
    app.add_option("--duration", o.duration, "Seconds to hold an answered call before BYE")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.0, 86400.0))
        ->capture_default_str();
    app.add_option("--ring-timeout", o.ring_timeout, "Seconds to wait for the answer before CANCEL")
        ->type_name("SECONDS")
        ->check(cli::positive())
        ->capture_default_str();
    app.add_option("--max-redirects", o.max_redirects,
                   "Follow a 3xx to its Contact at most N times (0: a 3xx fails the call)")
        ->type_name("N")
        ->check(CLI::Range(0u, 10u))
        ->capture_default_str();
    app.add_flag("--100rel", o.rel100,
                 "Reliable provisional responses (RFC 3262): Require: 100rel on our INVITE; answering, a reliable 180");
    app.add_flag("--update", o.update,
                 "Send an UPDATE (RFC 3311) with a new SDP offer halfway through --duration; the answerer answers it");
    app.add_flag("--precondition", o.precondition,
                 "QoS preconditions (RFC 3312): Require: precondition with a=curr/a=des lines, PRACK, UPDATE, then alerting");
    app.add_option("--message", o.message, "Send TEXT in a pager-mode MESSAGE (RFC 3428) instead of calling")
        ->type_name("TEXT");
    tool.add_timeout(5.0, "Seconds to wait for a first answer to a request");
    sip::add_trace_option(app);
    verdict::ExpectOption expect(app);

    auto* load = app.add_option_group("Load mode", "Place calls to the target at a rate, signalling only");
    load->add_option("--count", o.count, "Place N calls and print one summary (hold each for --duration)")
        ->type_name("N")
        ->check(cli::positive());
    load->add_option("--rate", o.rate, "Calls started per second (default: as fast as --concurrency allows)")
        ->type_name("PER_SECOND")
        ->check(cli::positive());
    load->add_option("--concurrency", o.concurrency,
                     "Calls in progress at once at most (default: rate x (--duration + 2), at least 1000)")
        ->type_name("N")
        ->check(cli::positive());
    load->add_option("--run-time", o.run_time, "Start calls for this many seconds (with or instead of --count)")
        ->type_name("SECONDS")
        ->check(cli::positive());
    load->add_option("--stats-interval", o.stats_interval,
                     "Print a load_stats line (JSON, or CSV in text mode) every SECONDS")
        ->type_name("SECONDS")
        ->check(cli::positive());

    auto* answer = app.add_option_group("Answer mode", "Answer calls (UAS)");
    answer->add_option("--listen", o.listen, "Receive calls and MESSAGEs on ADDRESS[:PORT] (default port 5060)")
        ->type_name("ADDR");
    answer->add_option("--tls-listen", o.tls_listen,
                       "Also receive calls over TLS (sips:) on ADDRESS[:PORT] (port default: 5061); needs --tls-cert and --tls-key")
        ->type_name("ADDR");
    answer->add_flag("--answer", o.answer, "Answer calls (200 OK) after --answer-delay; without it and --reject: ring only");
    answer->add_option("--answer-delay", o.answer_delay, "Seconds of ringing before answering")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.0, 3600.0));
    answer->add_option("--reject", o.reject, "Reject calls with this final status (e.g. 486)")
        ->type_name("CODE")
        ->check(CLI::Range(300u, 699u));
    answer->add_option("--redirect", o.redirect, "Answer every call 302 Moved Temporarily with this Contact")
        ->type_name("URI");
    answer->add_option("--max-calls", o.max_calls, "Exit after N calls have ended (default: at SIGINT/SIGTERM)")
        ->type_name("N")
        ->check(cli::positive());
    answer->add_flag("--echo", o.echo, "Send the received audio back instead of a tone");

    cli::add_tls_options(tool, o.tls, "Our certificate (PEM): the server certificate of --tls-listen, else a client certificate");
    auto* media = app.add_option_group("Media", "RTP");
    tool.choices(media->add_option("--media", o.media, "tone: send a G.711 tone and receive; none: signalling only")
                     ->type_name("MODE")
                     ->capture_default_str(),
                 {"tone", "none"});
    tool.choices(media->add_option("--codec", o.codec, "Offer or accept only this codec (default: PCMU and PCMA)")
                     ->type_name("CODEC"),
                 {"pcmu", "pcma"});
    media->add_option("--tone", o.tone_hz, "Frequency of the tone, in Hz")
        ->type_name("HZ")
        ->check(CLI::Range(1u, 3999u))
        ->capture_default_str();
    media->add_option("--wav", o.wav, "Send this WAV file (8 kHz mono, 16-bit PCM, mu-law or A-law), looped, instead of a tone")
        ->type_name("FILE");
    media->add_option("--rtcp-interval", o.rtcp_interval,
                      "Seconds between RTCP reports (randomised as RFC 3550 asks; 0: no RTCP)")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.0, 3600.0))
        ->capture_default_str();
    media->add_flag("--no-rtcp-mux{false}", o.rtcp_mux,
                    "Neither offer nor accept rtcp-mux (RFC 5761): RTCP on the RTP port + 1");

    return tool.run(argc, argv, [&] {
        o.timeout = tool.common().timeout;
        if (expect.given() && !o.listen.empty())
            throw Failure(Outcome::usage, "--expect checks the answer to our own INVITE or MESSAGE: not with --listen");
        return expect.run(o.message.empty() ? "INVITE" : "MESSAGE", tool.out(),
                          [&] { return call::run_call_command(o, tool.out()); });
    });
}
