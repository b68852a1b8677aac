#!/usr/bin/env python3
"""Brute-force peer for `weighpoint-dev plates bench`: rapidfuzz's process.extract with
Levenshtein distance <= 1 over the whole list, for each query of a sample.

Usage: rapidfuzz_peer.py LIST QUERIES
Writes one JSON line per query ({"query", "matches"}) to stdout and a JSON summary line
({"queries", "seconds", "rapidfuzz"}) to stderr. Needs `pip install rapidfuzz`.
"""
import json
import sys
import time

import rapidfuzz
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        choices = [line.strip() for line in f if line.strip()]
    with open(sys.argv[2], encoding="utf-8") as f:
        queries = [line.strip() for line in f if line.strip()]
    out = []
    start = time.perf_counter()
    for q in queries:
        found = process.extract(q, choices, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
        out.append({"query": q, "matches": sorted(m[0] for m in found)})
    seconds = time.perf_counter() - start
    for line in out:
        print(json.dumps(line, ensure_ascii=False))
    print(json.dumps({"queries": len(queries), "seconds": seconds, "rapidfuzz": rapidfuzz.__version__}), file=sys.stderr)


if __name__ == "__main__":
    main()
