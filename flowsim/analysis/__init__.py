"""Analysis: pure functions from trajectories to economic series and summaries."""
