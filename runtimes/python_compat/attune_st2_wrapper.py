"""Runs one StackStorm-style Python action for attune.

argv: the entry point file. stdin: one JSON document {"parameters": {...}, "config": {...},
"missing_requirements": [{"line", "text", "name", "reason"}]} (the last when the pack's
virtualenv lacks some of its requirements.txt).
The result, {"ok": bool, "result": value, "raised": bool}, goes to the file named in ATTUNE_ST2_RESULT_FILE;
stdout and stderr are the action's own. Exit 0 when run() succeeded, 1 otherwise.
"""

import importlib.util
import inspect
import json
import os
import sys
import traceback


def fail(message):
    print("attune: " + message, file=sys.stderr)
    sys.exit(1)


def write_result(ok, value, raised=False):
    with open(os.environ["ATTUNE_ST2_RESULT_FILE"], "w", encoding="utf-8") as f:
        json.dump({"ok": ok, "result": value, "raised": raised}, f, default=str)


def normalise(name):
    return name.lower().replace("-", "_").replace(".", "_")


def missing_module(name, missing):
    """The message for an import of module name that failed, naming the requirements.txt line."""
    top = (name or "").split(".")[0]
    for r in missing:
        if r.get("name") and normalise(r["name"]) == normalise(top):
            return ("the action imports module %r, which is not installed: requirements.txt line %d (%s) "
                    "was not installed in the pack's virtualenv: %s" % (name, r["line"], r["text"], r["reason"]))
    msg = "the action imports module %r, which is not installed for %s" % (name, sys.executable)
    if missing:
        msg += "; requirements.txt lines not installed: " + ", ".join(
            "%d (%s)" % (r["line"], r["text"]) for r in missing)
    else:
        msg += "; add it to the pack's requirements.txt or install it on the worker"
    return msg


def load_action_class(entry, missing):
    here = os.path.dirname(os.path.abspath(entry))
    for p in (os.path.join(here, "lib"), here):
        if p not in sys.path:
            sys.path.insert(1, p)
    spec = importlib.util.spec_from_file_location("attune_st2_action", entry)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as e:
        traceback.print_exc()
        fail(missing_module(e.name, missing))
    from st2common.runners.base_action import Action
    found = [c for c in vars(module).values()
             if inspect.isclass(c) and issubclass(c, Action) and c is not Action
             and c.__module__ == module.__name__]
    if len(found) != 1:
        fail("%s must define exactly one subclass of st2common.runners.base_action.Action, found %d%s"
             % (os.path.basename(entry), len(found),
                (" (" + ", ".join(sorted(c.__name__ for c in found)) + ")") if found else ""))
    return found[0]


def instantiate(cls, config, service):
    """cls(config=..., action_service=...), or, for a class whose __init__ takes config alone
    (as many Exchange packs' base classes do), cls(config=...) with action_service set after."""
    try:
        return cls(config=config, action_service=service)
    except TypeError as e:
        if "action_service" not in str(e):
            raise
    action = cls(config=config)
    if service is not None:
        action.action_service = service
    return action


def main():
    entry = sys.argv[1]
    doc = json.load(sys.stdin)
    cls = load_action_class(entry, doc.get("missing_requirements") or [])
    service = None
    if doc.get("datastore_fds"):
        from st2common.runners.base_action import ActionService
        service = ActionService(doc.get("pack") or "", cls.__name__, doc["datastore_fds"])
    action = instantiate(cls, doc.get("config") or {}, service)
    try:
        value = action.run(**(doc.get("parameters") or {}))
    except Exception as e:
        traceback.print_exc()
        if isinstance(e, ModuleNotFoundError):
            print("attune: " + missing_module(e.name, doc.get("missing_requirements") or []), file=sys.stderr)
        write_result(False, None, raised=True)
        sys.exit(1)
    ok = True
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], bool):
        ok, value = value
    write_result(ok, value)
    sys.stdout.flush()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
