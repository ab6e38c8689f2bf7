"""Figures of results. Matplotlib is imported lazily, inside each function.

Every function takes an optional ``ax`` (or ``fig``), draws, and returns the
artists it made, so a figure can be composed or restyled by the caller.
"""

from .accounts import plot_account, plot_accounts_grid
from .backtest import plot_backtest
from .calibration import plot_fit, plot_fit_series
from .compare import plot_net_overlay, plot_net_overlay_grid
from .economy import plot_boost_burden, plot_boost_burden_grid
from .population import plot_population, plot_population_grid
from .posterior import plot_pairs, plot_trace
from .result_core import plot_series, plot_series_grid
from .uncertainty import plot_crossover_histogram, plot_fan, plot_fan_grid, plot_sobol, plot_tornado

__all__ = ["plot_population", "plot_population_grid", "plot_boost_burden", "plot_boost_burden_grid",
           "plot_net_overlay", "plot_net_overlay_grid", "plot_fan", "plot_fan_grid", "plot_crossover_histogram",
           "plot_sobol", "plot_tornado", "plot_fit", "plot_fit_series", "plot_backtest", "plot_trace", "plot_pairs",
           "plot_account", "plot_accounts_grid", "plot_series", "plot_series_grid"]
