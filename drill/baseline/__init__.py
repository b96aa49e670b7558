"""The approved baseline: its model (``model``) and its file (``codec``), both free of I/O.

``drill baseline approve`` captures it from the collected facts (``drill.collect.baseline``) and
writes it; every ``drill check`` and ``drill run`` loads it there and the ``drift`` check compares
today's configuration with it.
"""
