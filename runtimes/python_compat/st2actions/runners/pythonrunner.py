"""from st2actions.runners.pythonrunner import Action: StackStorm's import path before 2.x,
which Exchange packs still use. The same Action as st2common.runners.base_action's."""

from st2common.runners.base_action import Action

__all__ = ["Action"]
