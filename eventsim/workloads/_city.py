"""Private: the uber city — driver movement and pings over the grid, and surge pricing.

Drivers move as reflected random walks (speed ``driver_speed_mps``) over a grid of square
cells and ping every ``ping_interval_s`` while online; driver ``d`` is online at ``t`` when its
fixed uniform draw is below the workload's online fraction at ``t`` (so more drivers log in at
peak times). Pings are drawn in chunks of a few hundred thousand. Surge per cell is
``clip(1 + sensitivity × (demand / supply − 1), 1, surge_max)`` from the previous interval.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from eventsim.workloads._frame import EventFrame, Labels, format_keys
from eventsim.workloads._incidents import in_window
from eventsim.workloads.base import KEY_PREFIX

__all__ = ["cell_names", "drive", "price_surge"]


def cell_names(p: Any) -> list[str]:
    """Cell names ``c<x>_<y>``, indexed by ``x * grid_y + y``."""
    return [f"c{x}_{y}" for x in range(p.grid_x) for y in range(p.grid_y)]


def _fold(v: np.ndarray, length: float) -> np.ndarray:
    """Reflect an unbounded walk into ``[0, length)``."""
    return np.minimum(length - np.abs(length - np.mod(v, 2 * length)), np.nextafter(length, 0))


def drive(
    w: Any,
    ef: EventFrame,
    duration_s: float,
    u_driver: np.ndarray,
    spoofers: dict[int, np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    """Add the drivers' location pings; returns online drivers per (surge interval, cell)."""
    p = w.params
    n = len(u_driver)
    size = (p.grid_x * p.cell_size_m, p.grid_y * p.cell_size_m)
    n_int = int(np.ceil(duration_s / p.surge_interval_s))
    supply = np.zeros(n_int * p.grid_x * p.grid_y)
    pos = [rng.random(n) * size[0], rng.random(n) * size[1]]
    phase = rng.random(n) * p.ping_interval_s
    sd = p.driver_speed_mps * p.ping_interval_s / np.sqrt(2.0)
    n_pings = int(np.ceil(duration_s / p.ping_interval_s))
    chunk = max(1, 500_000 // n)
    names, cells = format_keys(KEY_PREFIX["driver"], np.arange(n)), cell_names(p)
    for k0 in range(0, n_pings, chunk):
        k = np.arange(k0, min(k0 + chunk, n_pings))
        t = phase[:, None] + k[None, :] * p.ping_interval_s
        walk = [pos[a][:, None] + np.cumsum(rng.normal(0, sd, t.shape), axis=1) for a in (0, 1)]
        pos = [walk[0][:, -1], walk[1][:, -1]]
        xy = [_fold(walk[a], size[a]) for a in (0, 1)]
        online = u_driver[:, None] < w.online_fraction(t)
        for i, drivers in spoofers.items():
            spec = w.incidents[i]
            win = in_window(t[drivers], spec)
            online[drivers] |= win
            for a in (0, 1):
                block = xy[a][drivers]
                block[win] = rng.random(int(win.sum())) * size[a]
                xy[a][drivers] = block
        sel = online & (t < duration_s)
        d = np.broadcast_to(np.arange(n)[:, None], t.shape)[sel]
        x, y = xy[0][sel], xy[1][sel]
        cell = (x // p.cell_size_m).astype(np.int64) * p.grid_y + (y // p.cell_size_m).astype(
            np.int64
        )
        slot = (t[sel] // p.surge_interval_s).astype(np.int64) * p.grid_x * p.grid_y + cell
        supply += np.bincount(slot, minlength=len(supply))
        ef.add(
            t[sel],
            "driver_locations",
            "location_ping",
            Labels(d, names),
            120,
            driver=d,
            cell=Labels(cell, cells),
            x_m=x,
            y_m=y,
        )
    per_interval = p.surge_interval_s / p.ping_interval_s
    return supply.reshape(n_int, -1) / per_interval


def price_surge(
    w: Any, ef: EventFrame, t: np.ndarray, cell: np.ndarray, supply: np.ndarray
) -> np.ndarray:
    """Surge multiplier per (interval, cell) from the previous interval; adds the changes."""
    p = w.params
    n_int, n_cells = supply.shape
    slot = np.minimum((t // p.surge_interval_s).astype(np.int64), n_int - 1) * n_cells + cell
    demand = np.bincount(slot, minlength=n_int * n_cells).reshape(n_int, n_cells)
    ratio = demand / np.maximum(supply, 0.5)
    raw = np.round(np.clip(1.0 + p.surge_sensitivity * (ratio - 1.0), 1.0, p.surge_max), 1)
    surge = np.vstack([np.ones((1, n_cells)), raw[:-1]])
    k, c = np.nonzero(surge[1:] != surge[:-1])
    cells = cell_names(p)
    ef.add(
        (k + 1) * p.surge_interval_s,
        "surge",
        "surge_updated",
        Labels(c, cells),
        90,
        cell=Labels(c, cells),
        surge_multiplier=surge[k + 1, c],
    )
    return surge
