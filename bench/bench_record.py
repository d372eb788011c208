#!/usr/bin/env python3
"""Machine-readable bench results: when BENCH_JSON=FILE is set, each figure row
a bench prints is also appended to FILE as one JSON line {"bench": NAME, ...}
(bench/report reads them instead of parsing the text tables). Nothing is
written when BENCH_JSON is unset.

From Python (the bench scripts put bench/ on PYTHONPATH):
    from bench_record import record; record("swarm-scale", n=4, share=1.2)
From shell:
    python3 bench/bench_record.py swarm-scale n=4 share=1.2
(values that parse as JSON numbers/booleans stay numbers, others are strings).
"""
import json
import os
import sys


def record(bench, **fields):
    path = os.environ.get("BENCH_JSON")
    if not path:
        return
    with open(path, "a") as out:
        out.write(json.dumps({"bench": bench, **fields}) + "\n")


def parse_value(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


if __name__ == "__main__":
    if len(sys.argv) < 2 or any("=" not in arg for arg in sys.argv[2:]):
        print("usage: bench_record.py BENCH KEY=VALUE...", file=sys.stderr)
        sys.exit(2)
    record(sys.argv[1], **{k: parse_value(v) for k, v in (arg.split("=", 1) for arg in sys.argv[2:])})
