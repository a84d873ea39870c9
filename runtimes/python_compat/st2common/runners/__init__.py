# See st2common/__init__.py.
