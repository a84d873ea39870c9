"""The Action base class of StackStorm Python actions, as attune provides it.

An action subclasses Action and defines run(**parameters). attune's wrapper instantiates the one
subclass in the entry point with the pack's configuration and calls run with the parameters.
"""

import logging
import sys

__all__ = ["Action"]


class DatastoreNotAvailable(RuntimeError):
    """Raised by action_service: attune's datastore is not available to Python actions yet."""


class _ActionService:
    """Stands in for StackStorm's action_service until attune's datastore lands."""

    def _unavailable(self, *args, **kwargs):
        raise DatastoreNotAvailable(
            "action_service (the datastore: get_value, set_value, delete_value, list_values) "
            "is not available in attune yet; pass the value as a parameter or in the pack config")

    get_value = set_value = delete_value = list_values = _unavailable


def _stderr_logger(name):
    logger = logging.getLogger("attune.action." + name)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
    return logger


class Action:
    """Base class of a Python action: self.config, self.logger, self.action_service."""

    def __init__(self, config=None, action_service=None):
        self.config = config if config is not None else {}
        self.logger = _stderr_logger(type(self).__name__)
        self.action_service = action_service if action_service is not None else _ActionService()

    def run(self, **kwargs):
        raise NotImplementedError("an Action subclass must define run(**parameters)")
