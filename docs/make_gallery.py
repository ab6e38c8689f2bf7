"""Regenerate the gallery figures in docs/img/ from the seed scenario.

Usage: ``python docs/make_gallery.py``. Each figure is a function of the shipped
defaults, so rerun this when they change.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import flowsim  # noqa: E402
from flowsim.plotting import plot_boost_burden_grid, plot_population_grid  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"


def main() -> list[Path]:
    IMG.mkdir(exist_ok=True)
    result = flowsim.run(flowsim.load_scenario("kazakhstan-2022"))
    written = []
    for stem, draw in (("population", plot_population_grid), ("boost_burden", plot_boost_burden_grid)):
        for suffix, days in (("", None), ("_first_120_days", 120)):
            fig, _ = draw(result, days=days)
            path = IMG / f"{stem}{suffix}.png"
            fig.savefig(path, dpi=80)
            plt.close(fig)
            written.append(path)
    return written


if __name__ == "__main__":
    for p in main():
        print(p)
