"""Sequential models for the linearizability checker, by name in :data:`MODELS`."""

from __future__ import annotations

from eventsim.consistency.models.base import ILLEGAL, Model, Step
from eventsim.consistency.models.kv import KvModel
from eventsim.consistency.models.register import RegisterModel
from eventsim.exceptions import ConfigError, closest

__all__ = ["ILLEGAL", "MODELS", "KvModel", "Model", "RegisterModel", "Step", "get_model"]

MODELS: dict[str, type[Model]] = {"register": RegisterModel, "kv": KvModel}
"""Model name → class. A new model is one file plus one entry here."""


def get_model(model: str | Model) -> Model:
    """The model named ``model`` (a :class:`Model` instance passes through).

    Raises
    ------
    ConfigError
        The name is not in :data:`MODELS`; the message lists the known names.

    Examples
    --------
    >>> get_model("kv").name
    'kv'
    >>> get_model("regster")
    Traceback (most recent call last):
    ...
    eventsim.exceptions.ConfigError: model 'regster' is unknown; known models: register, kv; ...
    """
    if isinstance(model, Model):
        return model
    cls = MODELS.get(model)
    if cls is None:
        msg = f"model {model!r} is unknown; known models: {', '.join(MODELS)}"
        raise ConfigError(msg + closest(str(model), MODELS))
    return cls()
