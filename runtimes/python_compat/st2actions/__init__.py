"""StackStorm's older import path for Action, as attune provides it (see st2common)."""
