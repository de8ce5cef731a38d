"""Flash crowds: a :class:`Spike` shapes a rate, :func:`spike_start` places (or disables) it.

Every business workload has one spike parameter ``<name>_at_s`` (netflix ``release_at_s``,
uber ``spike_at_s``, linkedin ``viral_at_s``, amazon ``prime_day_at_s``) taking:

- ``"auto"`` (the default): the workload's own place in the run (e.g. halfway through);
- a number of seconds inside the run: the spike starts then;
- ``None`` (or the string ``"none"``, which is what ``--set params.spike_at_s=none`` passes
  from the command line): no spike at all.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from eventsim.exceptions import ScenarioError

__all__ = ["AUTO", "Spike", "check_spike_param", "spike_start"]

AUTO = "auto"
_OFF = ("none", "off")


@dataclass(frozen=True)
class Spike:
    """A flash crowd: rate multiplier 1 → ``peak_multiplier`` (linear ramp), hold, then decay.

    Parameters
    ----------
    start_s
        When the ramp starts (simulated seconds).
    ramp_s
        Length of the linear ramp up to the peak.
    peak_multiplier
        Rate multiplier at the peak (1 = no spike).
    decay_s
        Time constant of the exponential decay back to 1 after the peak (and hold).
    hold_s
        How long the peak is held before it decays.

    Examples
    --------
    >>> s = Spike(start_s=100.0, ramp_s=10.0, peak_multiplier=5.0, decay_s=20.0)
    >>> s.factor(np.array([0.0, 105.0, 110.0, 130.0])).round(3).tolist()
    [1.0, 3.0, 5.0, 2.472]
    """

    start_s: float
    ramp_s: float
    peak_multiplier: float
    decay_s: float
    hold_s: float = 0.0

    def factor(self, t_s: np.ndarray) -> np.ndarray:
        """Rate multiplier at times ``t_s``."""
        t = np.asarray(t_s, dtype=float) - self.start_s
        extra = self.peak_multiplier - 1.0
        ramp = np.clip(t / self.ramp_s, 0.0, 1.0) if self.ramp_s > 0 else (t >= 0).astype(float)
        after = np.maximum(t - self.ramp_s - self.hold_s, 0.0)
        decay = np.exp(-after / self.decay_s) if self.decay_s > 0 else (after <= 0).astype(float)
        return 1.0 + extra * np.where(t < 0, 0.0, ramp * decay)


def check_spike_param(field: str, value: object) -> None:
    """Reject a spike parameter that is neither a number, ``"auto"`` nor None / ``"none"``.

    Examples
    --------
    >>> check_spike_param("spike_at_s", "noon")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ScenarioError: workload.params.spike_at_s must be ...; got 'noon'
    """
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return
    if isinstance(value, str) and value.lower() in (AUTO, *_OFF):
        return
    msg = (
        f"workload.params.{field} must be a time in seconds, 'auto' (the workload's default"
        f" place) or None/'none' (no spike); got {value!r}"
    )
    raise ScenarioError(msg)


def spike_start(field: str, value: object, duration_s: float, auto_s: float) -> float | None:
    """When the spike starts: ``auto_s`` for ``"auto"``, None for no spike, else ``value``.

    A start outside ``[0, duration_s)`` is rejected with a one-line error naming the field.

    Examples
    --------
    >>> spike_start("spike_at_s", "auto", 100.0, 50.0), spike_start("spike_at_s", None, 100.0, 50.0)
    (50.0, None)
    >>> spike_start("spike_at_s", "none", 100.0, 50.0) is None
    True
    >>> spike_start("spike_at_s", 500.0, 100.0, 50.0)
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ScenarioError: workload.params.spike_at_s must be inside the run ...
    """
    check_spike_param(field, value)
    if value is None or (isinstance(value, str) and value.lower() in _OFF):
        return None
    start = float(auto_s) if isinstance(value, str) else float(value)  # type: ignore[arg-type]
    if not 0.0 <= start < duration_s:
        msg = f"workload.params.{field} must be inside the run [0, {duration_s}) s; got {value!r}"
        raise ScenarioError(msg)
    return start
