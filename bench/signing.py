"""Signing and verifying cost per credential: eddsa-rdfc-2022 vs VC-JOSE vs bare Ed25519.

    .venv/bin/python bench/signing.py               # 30 rounds for one course result, 5 for the CLR
    .venv/bin/python bench/signing.py --rounds 3    # quick check

(a) one OB 3.0 AchievementCredential of a course result; (b) a CLR 2.0 ClrCredential embedding
40 such credentials, each already carrying its own eddsa-rdfc-2022 proof (as the cohort export
would embed them). For (b), "sign" is the outer proof only; "verify" is the outer proof only,
and "verify all" is ``verify_credential``, which also checks the 40 embedded proofs.

The physical limit is a bare Ed25519 signature (and verification) of the same document's
compact JSON bytes: what any proof must at least cost. Each figure is the median over the
rounds of CPU ms (``process_time``) and wall ms (``perf_counter``); the ratio is to the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lms.credentials import data_integrity, jose  # noqa: E402
from lms.credentials.verify import verify_credential  # noqa: E402
from tests.credentials import ISSUER, course_result, fixed_key, transcript  # noqa: E402

KEY = fixed_key(7)
METHOD = f"{ISSUER}#{KEY.key_id}"


def resolve(method):
    return KEY.public_key if method == METHOD else None


def timed(fn, rounds: int) -> tuple[float, float]:
    """Median (cpu ms, wall ms) of ``rounds`` calls."""
    cpu, wall = [], []
    for _ in range(rounds):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def measure(label: str, doc: dict, rounds: int, *, verify_all: bool) -> None:
    body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    signature = KEY.private_key.sign(body)
    di_signed = data_integrity.sign(doc, KEY, METHOD)
    token = jose.sign(doc, KEY, METHOD)
    assert data_integrity.verify(di_signed, resolve).ok and jose.verify(token, resolve)[1].ok
    rows = {
        "bare Ed25519 sign": timed(lambda: KEY.private_key.sign(body), rounds * 20),
        "bare Ed25519 verify": timed(lambda: KEY.public_key.verify(signature, body), rounds * 20),
        "eddsa-rdfc-2022 sign": timed(lambda: data_integrity.sign(doc, KEY, METHOD), rounds),
        "eddsa-rdfc-2022 verify": timed(lambda: data_integrity.verify(di_signed, resolve), rounds),
        "JOSE sign": timed(lambda: jose.sign(doc, KEY, METHOD), rounds * 20),
        "JOSE verify": timed(lambda: jose.verify(token, resolve), rounds * 20),
    }
    if verify_all:
        def full(data):
            verdict = verify_credential(data, resolvers=lambda issuer: resolve, status_lookup=lambda url: None)
            assert verdict.status == "valid", verdict
        rows["eddsa-rdfc-2022 verify all"] = timed(lambda: full(di_signed), max(1, rounds // 2))
        rows["JOSE verify all"] = timed(lambda: full(token), max(1, rounds // 2))
    print(f"\n{label}: {len(body):,} bytes of JSON, {len(token):,} chars of JWS")
    print(f"  {'':28} {'CPU ms':>10} {'wall ms':>10} {'CPU x limit':>12}")
    for name, (cpu, wall) in rows.items():
        limit = rows["bare Ed25519 verify" if "verify" in name else "bare Ed25519 sign"][0]
        print(f"  {name:28} {cpu:10.3f} {wall:10.3f} {cpu / limit:12.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    print(f"CPUs: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    measure("(a) one AchievementCredential (course result)", course_result(), args.rounds, verify_all=False)
    embedded = [data_integrity.sign(course_result(index=i, course=f"CS-{100 + i}", score=str(50 + i)), KEY, METHOD)
                for i in range(40)]
    measure("(b) ClrCredential embedding 40 signed AchievementCredentials", transcript(embedded),
            max(1, args.rounds // 6), verify_all=True)


if __name__ == "__main__":
    main()
