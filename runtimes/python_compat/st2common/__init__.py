# attune's compatibility module for StackStorm Python actions: enough of st2common for
# `from st2common.runners.base_action import Action` to work. Written for attune; not StackStorm's code.
