"""Benchmark: how the ensemble's cost per member grows with the number of hosts (8 to 30).

Run from the repository root::

    python benchmarks/bench_hosts.py                    # H = 8, 16, 30; 200 members each
    python benchmarks/bench_hosts.py --hosts 8 30 --n 100

For each H, the scenario is H copies of Kazakhstan (``flowsim.Host(..., like="KAZ")``,
onward movers spread evenly over the other hosts and W), each with the seed's
Kazakhstan pulse, 5 years; ``flowsim.ensemble`` draws N members over every shipped
range and solves them. The script prints, in one run, the seconds per member and the
cost per member and host relative to H = the first size: close to 1 means linear growth
(the onward moves are an (H x H) matrix product, so some superlinear cost is expected
only well beyond 30 hosts). Timings depend on the machine and its load; the ratios
compare runs made one after the other in the same process.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import flowsim  # noqa: E402

SEED = 20221021


def scenario(n_hosts: int) -> flowsim.Scenario:
    """``n_hosts`` copies of Kazakhstan, onward shares spread evenly, the seed's pulse in each."""
    codes = [f"H{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(n_hosts)]
    seed = flowsim.load_scenario("kazakhstan-2022")
    share = 0.5 / max(n_hosts - 1, 1)
    hosts = [flowsim.Host(c, like="KAZ", onward={**{d: share for d in codes if d != c},
                                                  "W": 1.0 - share * (n_hosts - 1)}) for c in codes]
    params = flowsim.reference_parameters(["KAZ"]).with_hosts(*hosts).select(codes)
    pulse = seed.arrivals["KAZ"][0]
    return flowsim.Scenario(params=params, start=seed.start, arrivals={c: pulse for c in codes},
                            name=f"{n_hosts}-hosts")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hosts", type=int, nargs="+", default=[8, 16, 30], help="numbers of hosts")
    ap.add_argument("--n", type=int, default=200, help="members per ensemble (default 200)")
    args = ap.parse_args(argv)
    rows = []
    for h in args.hosts:
        sc = scenario(h)
        flowsim.ensemble(sc, 4, seed=SEED, progress=False)            # warm-up (imports, step plan cache)
        t0 = time.perf_counter()
        ens = flowsim.ensemble(sc, args.n, seed=SEED, progress=False)
        sec = time.perf_counter() - t0
        assert np.isfinite(ens.series("N")).all()
        rows.append((h, args.n, sec, sec / args.n * 1e3, sec / args.n / h * 1e3))
    base = rows[0][4]
    print(f"{'hosts':>5} {'members':>8} {'seconds':>8} {'ms/member':>10} {'ms/member/host':>15} {'vs first':>9}")
    for h, n, sec, per_member, per_host in rows:
        print(f"{h:>5} {n:>8} {sec:>8.2f} {per_member:>10.2f} {per_host:>15.3f} {per_host / base:>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
