"""Regenerate the gallery figures in docs/img/ (shown by docs/gallery.md).

Usage::

    python docs/make_gallery.py                 # every figure (about 3 minutes on 2 cores)
    python docs/make_gallery.py fan sobol       # only some groups (names: see FIGURES)

Each figure is a function of the shipped defaults and fixed seeds, so rerun this
when they change. The numbers quoted in docs/uncertainty.md and docs/calibration.md
come from the same calls (1000-member ensemble with seed 1, Sobol' indices with
n = 512 and seed 1, the 7-parameter Kazakhstan fit); each group prints its time.
"""

import datetime
import io
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))   # draw with the flowsim of this checkout, not another installed copy
import flowsim  # noqa: E402
from flowsim import plotting  # noqa: E402

IMG = ROOT / "docs" / "img"
#: Resolution of every PNG (pixels per inch); with the palette, keeps each file below 250 KB.
DPI = 100
SEED = "kazakhstan-2022"
#: The Kazakhstan fit of docs/calibration.md ("Example: Kazakhstan 2022").
KAZ_PARAMS = ["pulse.total[KAZ]", "pulse.shape[KAZ]", "pulse.scale_days[KAZ]", "tau_T[KAZ]", "q_ret[KAZ]",
              "background[KAZ]", "background[KAZ@2022-10-01]"]


def _save(fig, name: str) -> Path:
    """Write ``fig`` as docs/img/NAME.png with a 256-colour palette (a third of the size, no visible change)."""
    from PIL import Image  # matplotlib's own dependency

    path = IMG / f"{name}.png"
    buf = io.BytesIO()
    fig.savefig(buf, dpi=DPI)
    plt.close(fig)
    buf.seek(0)
    Image.open(buf).convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def seed_runs() -> list[Path]:
    """Population and boost/burden of every host in the seed scenario, whole horizon and first 120 days."""
    result = flowsim.run(flowsim.load_scenario(SEED))
    written = []
    for stem, draw in (("population", plotting.plot_population_grid),
                       ("boost_burden", plotting.plot_boost_burden_grid)):
        for suffix, days in (("", None), ("_first_120_days", 120)):
            fig, _ = draw(result, days=days)
            written.append(_save(fig, f"{stem}{suffix}"))
    return written


def compare() -> list[Path]:
    """Net impact of the seed against two library scenarios, per host (daily and cumulative)."""
    names = [SEED, "border-closure", "work-permit-fast-track"]
    results = [flowsim.run(flowsim.load_scenario(n)) for n in names]
    fig, _ = plotting.plot_net_overlay_grid(results, days=365)
    written = [_save(fig, "compare_net_first_year")]
    fig, _ = plotting.plot_net_overlay_grid(results, cumulative=True)
    written.append(_save(fig, "compare_cumulative_net"))
    return written


def fan() -> list[Path]:
    """Fan charts (KAZ: people present and net impact; every host: net impact) and crossover histogram."""
    ens = flowsim.ensemble(flowsim.load_scenario(SEED), 1000, seed=1, progress=False)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    plotting.plot_fan(ens, "N", "KAZ", ax=axes[0])
    plotting.plot_fan(ens, "net", "KAZ", ax=axes[1])
    axes[0].set_title("Kazakhstan (KAZ): people present")
    axes[1].set_title("Kazakhstan (KAZ): net impact (boost - burden)")
    fig.suptitle(f"Fan charts over {ens.n_members} members of '{ens.scenario.name}' "
                 f"(every shipped parameter range, Latin hypercube, seed {ens.seed})")
    written = [_save(fig, "fan_kaz")]
    fig, _ = plotting.plot_fan_grid(ens, "net")
    written.append(_save(fig, "fan_net"))
    fig, _ = plotting.plot_crossover_histogram(ens)
    written.append(_save(fig, "crossover_histogram"))
    return written


def sobol() -> list[Path]:
    """Sobol' indices and tornado of Kazakhstan's present value of net impact."""
    res = flowsim.sensitivity(flowsim.load_scenario(SEED), "pv_net_usd", "KAZ", n=512, seed=1, progress=False)
    written = []
    for name, draw in (("sobol_pv_kaz", plotting.plot_sobol), ("tornado_pv_kaz", plotting.plot_tornado)):
        fig, ax = plt.subplots(figsize=(9, 7), layout="constrained")
        draw(res, ax=ax)
        written.append(_save(fig, name))
    return written


def calibration() -> list[Path]:
    """The Kazakhstan fit of docs/calibration.md: every figure against the model, and the daily flows.

    One start: the six starts of the documented fit all end at the same point.
    """
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    fit = flowsim.calibrate(flowsim.load_scenario(SEED), kaz, KAZ_PARAMS, starts=1, seed=0)
    print("\n".join(repr(fit).splitlines()[:5]))
    fig = plt.figure(figsize=(13, 9), layout="constrained")
    fit.plot(ax=fig.subplots())
    written = [_save(fig, "calibration_fit_kaz")]
    fig, ax = plt.subplots(figsize=(10, 5), layout="constrained")
    fit.plot_series("KAZ", ax=ax)
    written.append(_save(fig, "calibration_series_kaz"))
    return written


def validation() -> list[Path]:
    """Fit on the Kazakhstan figures published by 2022-10-04, predict the later ones."""
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    val = flowsim.validate(flowsim.load_scenario(SEED), kaz, "2022-10-04", KAZ_PARAMS, starts=1, seed=0)
    print("\n".join(repr(val).splitlines()[:3]))
    fig = plt.figure(figsize=(13, 9), layout="constrained")
    val.plot(ax=fig.subplots())
    return [_save(fig, "validation_kaz")]


def posterior() -> list[Path]:
    """A short posterior sample of the Kazakhstan fit: traces, pairs, and KAZ fan charts without and with it.

    28 walkers x 300 steps (burn-in 100, seed 1): a chain long enough to look
    at, shorter than the documented one (600 steps) so the gallery stays quick.
    """
    kaz = flowsim.datasets.observations_2022().filter(host="KAZ")
    fit = flowsim.calibrate(flowsim.load_scenario(SEED), kaz, KAZ_PARAMS, starts=1, seed=0)
    post = fit.sample_posterior(n_walkers=28, n_steps=300, burn=100, seed=1)
    print("\n".join(repr(post).splitlines()[:3]))
    written = [_save(plotting.plot_trace(post)[0].figure, "posterior_trace_kaz"),
               _save(plotting.plot_pairs(post, max_points=1500).flat[0].figure, "posterior_pairs_kaz")]
    prior = flowsim.ensemble(flowsim.load_scenario(SEED), 1000, seed=1, progress=False)
    conditioned = post.ensemble(1000, seed=1, vary="ranges", progress=False)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained", sharey=True)
    first_year = (prior.scenario.start, prior.scenario.start + datetime.timedelta(days=365))
    for ax, ens in zip(axes, (prior, conditioned)):
        plotting.plot_fan(ens, "N", "KAZ", ax=ax)
        ax.set_xlim(*first_year)
    axes[0].set_title("shipped parameter ranges (not conditioned)")
    axes[1].set_title("posterior draws + the other parameters' ranges")
    fig.suptitle("Kazakhstan (KAZ): people present, first year, 1000 members each")
    written.append(_save(fig, "posterior_fan_kaz"))
    return written


FIGURES = {"seed": seed_runs, "compare": compare, "fan": fan, "sobol": sobol, "calibration": calibration,
           "validation": validation, "posterior": posterior}


def main(groups=None) -> list[Path]:
    """Draw the figure groups ``groups`` (default all) into docs/img/; return the files written."""
    unknown = set(groups or ()) - set(FIGURES)
    if unknown:
        raise SystemExit(f"unknown figure group(s) {sorted(unknown)}; choose from {', '.join(FIGURES)}")
    IMG.mkdir(exist_ok=True)
    written = []
    for name in groups or FIGURES:
        t0 = time.perf_counter()
        paths = FIGURES[name]()
        print(f"{name}: {len(paths)} figure(s) in {time.perf_counter() - t0:.1f} s", flush=True)
        written += paths
    return written


if __name__ == "__main__":
    t0 = time.perf_counter()
    for p in main(sys.argv[1:]):
        print(f"  {p} ({p.stat().st_size / 1024:.0f} KB)")
    print(f"total {time.perf_counter() - t0:.0f} s")
