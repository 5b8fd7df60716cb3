#!/usr/bin/env python3
"""Independent check of signalab-vectors.json.

A from-scratch Python re-implementation of GrowthBook's hash() (versions 1
and 2, over UTF-8 bytes), getBucketRanges/chooseVariation/inNamespace with
GrowthBook's float semantics, and signalab's sha256 bucketing. It shares no
code with the Go implementation. Exit status 0 when every vector agrees.

    python3 assign/testdata/verify_vectors.py
"""
import hashlib
import json
import os
import sys


def fnv1a32(data: bytes) -> int:
    h = 0x811C9DC5
    for c in data:
        h ^= c
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def gb_hash(seed: str, value: str, version: int) -> float:
    if version == 1:
        return (fnv1a32((value + seed).encode()) % 1000) / 1000
    if version == 2:
        inner = fnv1a32((seed + value).encode())
        return (fnv1a32(str(inner).encode()) % 10000) / 10000
    raise ValueError(version)


def bucket(h: str, seed: str, value: str) -> int:
    if h == "growthbook-v1":
        return (fnv1a32((value + seed).encode()) % 1000) * 10
    if h == "growthbook-v2":
        return round(gb_hash(seed, value, 2) * 10000)
    if h == "sha256":
        d = hashlib.sha256((seed + value).encode()).digest()
        return int.from_bytes(d[:8], "big") % 10000
    raise ValueError(h)


def bucket_ranges(n, coverage, weights):
    coverage = min(max(coverage, 0.0), 1.0)
    ranges, cum = [], 0.0
    for w in weights:
        start = cum
        cum += w
        ranges.append((start, start + coverage * w))
    return ranges


def choose(x, ranges):
    for i, (lo, hi) in enumerate(ranges):
        if lo <= x < hi:
            return i
    return -1


def main():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "signalab-vectors.json")
    f = json.load(open(path, encoding="utf-8"))
    bad = 0
    for v in f["hash"]:
        got = bucket(v["hash"], v["seed"], v["value"])
        if got != v["bucket"]:
            bad += 1
            print("hash mismatch", v, got)
    for v in f["assign"]:
        uid = v["unit_id"]
        if uid == "":
            want = (-1, -1, "missing_unit_id")
        else:
            b = bucket(v["hash"], v["salt"], uid)
            ns = v.get("namespace")
            if ns and not (ns["range"][0] <= gb_hash("__" + ns["id"], uid, 1) < ns["range"][1]):
                want = (b, -1, "not_in_namespace")
            else:
                arm = choose(b / 10000, bucket_ranges(len(v["weights"]), v["coverage"], v["weights"]))
                want = (b, arm, "assigned" if arm >= 0 else "outside_coverage")
        got = (v["bucket"], v["variation"], v["reason"])
        if got != want:
            bad += 1
            print("assign mismatch", v["name"], repr(uid), "file", got, "python", want)
    print(f"{len(f['hash'])} hash and {len(f['assign'])} assign vectors checked, {bad} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
