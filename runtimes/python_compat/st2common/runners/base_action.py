"""The Action base class of StackStorm Python actions, as attune provides it.

An action subclasses Action and defines run(**parameters). attune's wrapper instantiates the one
subclass in the entry point with the pack's configuration and calls run with the parameters.
"""

import json
import logging
import os
import sys

__all__ = ["Action", "ActionService"]


SYSTEM_SCOPE = "system"
FULL_SYSTEM_SCOPE = "st2kv.system"


class DatastoreNotAvailable(RuntimeError):
    """Raised by action_service when the worker gave the action no datastore channel."""


class DatastoreError(RuntimeError):
    """Raised by action_service when the worker refused or failed a datastore call."""


class KeyValuePair:
    """One datastore item, as list_values returns them: name, value, secret."""

    def __init__(self, name, value):
        self.name = name
        self.value = value
        self.secret = value == "********"

    def __repr__(self):
        return "KeyValuePair(name=%r)" % self.name


class _NoActionService:
    """action_service when the worker gave no datastore channel."""

    def _unavailable(self, *args, **kwargs):
        raise DatastoreNotAvailable(
            "action_service (the datastore: get_value, set_value, delete_value, list_values) "
            "is not available to this action: the worker gave it no datastore channel")

    get_value = set_value = delete_value = list_values = _unavailable


class ActionService:
    """StackStorm's action_service over attune's datastore channel.

    The action holds no database credentials: each call is one JSON line on a pipe the worker
    answers. Only the system scope is served, as StackStorm's actions have it; local=True (the
    default) prefixes the name with "<pack>.<ActionClass>:", as StackStorm does. A secret value is
    returned decrypted only for the pack's own keys (names starting with "<pack>.").
    """

    def __init__(self, pack, class_name, fds):
        self._prefix = "%s.%s:" % (pack, class_name)
        self._requests = os.fdopen(fds[0], "w", encoding="utf-8", closefd=True)
        self._replies = os.fdopen(fds[1], "r", encoding="utf-8", closefd=True)

    def _call(self, op, **kwargs):
        kwargs["op"] = op
        self._requests.write(json.dumps(kwargs) + "\n")
        self._requests.flush()
        line = self._replies.readline()
        if not line:
            raise DatastoreError("%s: the worker closed the datastore channel" % op)
        reply = json.loads(line)
        if not reply.get("ok"):
            raise DatastoreError("%s_value: %s" % (op, reply.get("error")))
        return reply

    def _name(self, name, local, scope):
        if scope not in (SYSTEM_SCOPE, FULL_SYSTEM_SCOPE):
            raise ValueError("Scope %s is unsupported." % scope)
        return self._prefix + name if local else name

    def get_value(self, name, local=True, scope=SYSTEM_SCOPE, decrypt=False):
        reply = self._call("get", name=self._name(name, local, scope), decrypt=bool(decrypt))
        return reply.get("value", "") if reply.get("found") else None

    def set_value(self, name, value, ttl=None, local=True, scope=SYSTEM_SCOPE, encrypt=False):
        self._call("set", name=self._name(name, local, scope), value=str(value),
                   ttl=float(ttl or 0), encrypt=bool(encrypt))
        return True

    def delete_value(self, name, local=True, scope=SYSTEM_SCOPE):
        return bool(self._call("delete", name=self._name(name, local, scope)).get("found"))

    def list_values(self, local=True, prefix=None):
        key_prefix = (self._prefix if local else "") + (prefix or "")
        values = self._call("list", name=key_prefix).get("values") or {}
        return [KeyValuePair(k, values[k]) for k in sorted(values)]


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
        self.action_service = action_service if action_service is not None else _NoActionService()

    def run(self, **kwargs):
        raise NotImplementedError("an Action subclass must define run(**parameters)")
