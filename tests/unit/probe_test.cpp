#include "cli/outcome.hpp"
#include "probe/dht_probe.hpp"
#include "probe/report.hpp"
#include "probe/testbed_file.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

using namespace imsp2p;
using namespace imsp2p::probe;

namespace {

ProbeResult sample(const std::string& name = "")
{
    ProbeResult r;
    r.probe = "dht";
    r.target = "127.0.0.1:4222 network 7";
    r.name = name;
    r.summary = "16 nodes";
    r.metric("nodes", 16);
    r.metric("rtt_ms", 3.25);
    r.metric("loss_pct", 0);
    return r;
}

std::string write_file(const std::string& name, const std::string& text)
{
    const auto path = std::filesystem::temp_directory_path() / ("imsp2p-probe-test-" + name);
    std::ofstream(path) << text;
    return path.string();
}

} // namespace

TEST_CASE("probe thresholds: parsing and direction")
{
    const auto t = parse_threshold("rtt_ms=200");
    CHECK(t.metric == "rtt_ms");
    CHECK(t.value == 200);
    CHECK_FALSE(higher_is_better("rtt_ms"));
    CHECK(higher_is_better("nodes"));
    CHECK_THROWS_AS(parse_threshold("rtt=1"), Failure);
    CHECK_THROWS_AS(parse_threshold("rtt_ms"), Failure);
    CHECK_THROWS_AS(parse_threshold("rtt_ms=fast"), Failure);
    CHECK_THROWS_AS(parse_threshold("nodes=-1"), Failure);
}

TEST_CASE("probe health: outcome first, then thresholds")
{
    Thresholds thresholds{{parse_threshold("rtt_ms=3")}, {parse_threshold("nodes=20")}};
    auto r = sample();
    evaluate(r, thresholds);
    CHECK(r.health == Health::critical); // 16 nodes < 20
    thresholds.critical.clear();
    r = sample();
    evaluate(r, thresholds);
    CHECK(r.health == Health::warning); // 3.25 ms > 3
    r = sample();
    r.outcome = Outcome::no_answer;
    evaluate(r, {});
    CHECK(r.health == Health::critical);
    r.outcome = Outcome::usage;
    evaluate(r, {});
    CHECK(r.health == Health::unknown);
}

TEST_CASE("probe nagios line and exit codes")
{
    Thresholds thresholds{{parse_threshold("rtt_ms=100")}, {parse_threshold("nodes=8")}};
    auto r = sample();
    evaluate(r, thresholds);
    r.perf = perfdata(r, thresholds, "");
    CHECK(nagios_line({r}) == "DHT OK: 16 nodes | 'nodes'=16;;8: 'rtt_ms'=3.25ms;100; 'loss_pct'=0%");
    CHECK(exit_status({r}, Format::nagios) == 0);
    auto bad = sample("core");
    bad.outcome = Outcome::no_answer;
    bad.summary = "line one\nline | two";
    evaluate(bad, thresholds);
    const auto line = nagios_line({r, bad});
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line.rfind("OVERLAY CRITICAL: 1/2 probes OK; core dht CRITICAL: line one line / two", 0) == 0);
    CHECK(exit_status({r, bad}, Format::nagios) == 2);
    CHECK(exit_status({r, bad}, Format::text) == 3);
}

TEST_CASE("probe prometheus text in base units")
{
    auto r = sample("a\"b");
    evaluate(r, {});
    const auto text = prometheus_text({r});
    CHECK(text.find("# TYPE overlay_probe_rtt_seconds gauge\n"
                    "overlay_probe_rtt_seconds{probe=\"dht\",target=\"127.0.0.1:4222 network 7\",name=\"a\\\"b\"} 0.00325\n") !=
          std::string::npos);
    CHECK(text.find("overlay_probe_up{") != std::string::npos);
    CHECK(text.find("overlay_probe_loss_ratio{") != std::string::npos);
}

TEST_CASE("probe overlay size estimate from k-closest distances")
{
    // 1024 ids evenly spread: the 8th closest to any key lies ~8/1024 of the space away.
    std::vector<std::string> ids;
    for (unsigned i = 0; i < 1024; ++i) {
        char hex[41];
        std::snprintf(hex, sizeof hex, "%016llx000000000000000000000000", static_cast<unsigned long long>(i) << 54);
        ids.push_back(hex);
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> lookups;
    for (unsigned key = 0; key < 16; ++key) {
        const auto target = ids[key * 64];
        std::vector<std::string> closest;
        const unsigned long long t = std::stoull(target.substr(0, 16), nullptr, 16);
        std::vector<std::pair<unsigned long long, std::string>> by_distance;
        for (const auto& id : ids)
            by_distance.emplace_back(std::stoull(id.substr(0, 16), nullptr, 16) ^ t, id);
        std::sort(by_distance.begin(), by_distance.end());
        for (unsigned i = 0; i < 8; ++i)
            closest.push_back(by_distance[i].second);
        lookups.emplace_back(target, closest);
    }
    const double estimate = estimate_size(lookups);
    CHECK(estimate > 800);
    CHECK(estimate < 1300);
    CHECK(estimate_size({}) == 0);
}

TEST_CASE("probe testbed file: sections become command lines")
{
    const auto file = write_file("ok.toml", "[dht.core]\nbootstrap = [\"a:1\", \"b:2\"]\nnetwork-id = 7\n\n"
                                            "[sip]\nuri = [\"sip:x\", \"sip:y\"]\ncount = 2\n\n[license.drm]\nurl = \"http://h/\"\n");
    const auto entries = read_testbed(file);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].kind == "dht");
    CHECK(entries[0].name == "core");
    CHECK(entries[0].args == std::vector<std::string>{"--bootstrap=a:1", "--bootstrap=b:2", "--network-id=7"});
    CHECK(entries[1].name == "sip");
    CHECK(entries[1].args == std::vector<std::string>{"sip:x", "sip:y", "--count=2"});
    CHECK(entries[2].args == std::vector<std::string>{"http://h/"});
    CHECK_THROWS_AS(read_testbed(write_file("kind.toml", "[dns]\nx = 1\n")), Failure);
    CHECK_THROWS_AS(read_testbed(write_file("top.toml", "x = 1\n")), Failure);
    CHECK_THROWS_AS(read_testbed(write_file("empty.toml", "# nothing\n")), Failure);
    CHECK_THROWS_AS(read_testbed("/nonexistent/testbed.toml"), Failure);
}
