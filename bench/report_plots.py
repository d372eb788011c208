"""The benchmark report's PNG plots, drawn by gnuplot (Debian gnuplot-nox)
from the benches' BENCH_JSON records. Each plot keeps its data file and its
gnuplot script in DIR/plots/ so it can be redrawn or restyled by hand (cd DIR; gnuplot plots/NAME.gp).
plots(records, DIR) returns [(title, png name or None, why it is missing)]."""
import os
import subprocess

from report_goals import crawl_by_size, rows_by

TERMINAL = "set terminal pngcairo size 900,540 font 'sans,11'"


def draw(outdir, name, data_lines, script):
    """Writes plots/NAME.dat and plots/NAME.gp, runs gnuplot; returns None or an error text."""
    plots = os.path.join(outdir, "plots")
    os.makedirs(plots, exist_ok=True)
    data, gp = os.path.join(plots, f"{name}.dat"), os.path.join(plots, f"{name}.gp")
    with open(data, "w") as out:
        out.write("\n".join(data_lines) + "\n")
    with open(gp, "w") as out:
        out.write(f"{TERMINAL}\nset output '{name}.png'\ndata = 'plots/{name}.dat'\nset grid\nset key top left\n"
                  + script)
    done = subprocess.run(["gnuplot", f"plots/{name}.gp"], cwd=outdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=60)
    return None if done.returncode == 0 else f"gnuplot failed: {done.stdout.strip()[-300:]}"


def lookup_latency(records):
    lines = ["# nodes get_p50 get_p99 lookup_p50 lookup_p99 (ms)"]
    lines += [f"{r['nodes']} {r['get_p50_ms']} {r['get_p99_ms']} {r['lookup_p50_ms']} {r['lookup_p99_ms']}"
              for r in sorted(records, key=lambda r: r["nodes"])]
    return lines, """set title 'Lookup latency vs overlay size (simulation mode, same run)'
set xlabel 'overlay nodes'; set ylabel 'latency, ms'
set logscale x 2; set xtics (16, 32, 64, 128, 256, 512); set yrange [0:*]
set offsets graph 0.04, graph 0.04, graph 0.35, 0; set key top center
plot data u 1:5 w lp lw 2 pt 7 t 'binding lookup p99', data u 1:4 w lp lw 2 pt 7 t 'binding lookup p50', \\
     data u 1:3 w lp lw 2 dt 2 pt 6 t 'plain OpenDHT get p99', data u 1:2 w lp lw 2 dt 2 pt 6 t 'plain OpenDHT get p50'
"""


def swarm_share(records):
    lines = ["# fetchers seeder_upload/file_size"]
    lines += [f"{r['n']} {r['seeder_share']}" for r in sorted(records, key=lambda r: r["n"])]
    top = max(r["n"] for r in records)
    return lines, f"""set title 'Seeder upload vs swarm size ({records[0]['size_mib']} MiB file)'
set xlabel 'fetchers started together (N)'; set ylabel 'seeder upload / file size'
set xrange [0:{top + 1}]; set yrange [0:{top + 1}]
plot x w l lw 2 dt 2 t 'central server (N x file)', 2 w l lw 2 dt 3 lc rgb 'red' t 'goal: under 2x at N = 8', \\
     data u 1:2 w lp lw 2 pt 7 t 'swarm-publish seeder'
"""


def crawl(records):
    lines = ["# nodes found% crawl_s (worst round)"]
    sizes = crawl_by_size(records)
    lines += [f"{n} {100 * share} {seconds if seconds != float('inf') else 'NaN'}"
              for n, (share, seconds, _) in sizes.items()]
    slowest = max([s for _, s, _ in sizes.values() if s != float("inf")] + [5])
    return lines, f"""set title 'Overlay crawl: completeness and time vs size (worst round)'
set xlabel 'overlay nodes'; set ylabel 'nodes found, %'; set y2label 'crawl time, s'
set logscale x 2; set xtics (16, 32, 64, 128, 256, 512); set yrange [0:110]; set y2range [0:{1.25 * slowest:.1f}]
set offsets graph 0.04, graph 0.04, 0, 0; set ytics nomirror; set y2tics; set key bottom right
plot data u 1:2 w lp lw 2 pt 7 t 'found %', data u 1:3 axes x1y2 w lp lw 2 pt 5 t 'crawl s (right axis)', \\
     99 w l lw 2 dt 3 lc rgb 'red' t 'goal: 99% found', 5 axes x1y2 w l lw 2 dt 3 lc rgb 'orange' t 'goal: under 5 s'
"""


def registrations(records):
    r = rows_by(records)
    names = (("kamailio", "Kamailio"), ("core", "p2p-node core"), ("core-again", "core, same load again"))
    lines = ["# label registrations/s"] + [f"\"{label}\" {r[key]['reg_per_s']}" for key, label in names if key in r]
    return lines, """set title 'Registrations/s: 3-node p2p-node core vs Kamailio (same run, 3 clients each)'
set ylabel 'registrations/s'; set yrange [0:*]; set offsets 0, 0, graph 0.08, 0
set style fill solid 0.6; set boxwidth 0.6; unset key
plot data u 0:2:xtic(1) w boxes, data u 0:2:(sprintf('%.0f', $2)) w labels offset 0,1
"""


# (png name, title, bench, data and script maker)
PLOTS = [
    ("lookup-latency", "Lookup latency p50/p99 vs overlay size, ours and plain OpenDHT", "overlay-lookup",
     lookup_latency),
    ("swarm-share", "Seeder share vs swarm size", "swarm-scale", swarm_share),
    ("crawl", "Crawl completeness and time vs overlay size", "overlay-crawl", crawl),
    ("registrations", "Registrations/s, ours vs Kamailio", "core-register", registrations),
]


def plots(records, outdir):
    drawn = []
    for name, title, bench, make in PLOTS:
        got = records.get(bench) or []
        if not got:
            drawn.append((title, None, f"no figures from {bench}"))
            continue
        error = draw(outdir, name, *make(got))
        drawn.append((title, None if error else f"{name}.png", error))
    return drawn
