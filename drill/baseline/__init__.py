"""The approved baseline: its model (``model``), its file (``codec``) and how two records differ
(``compare``), all free of I/O.

``drill baseline approve`` captures it from the collected facts (``drill.collect.baseline``) and
writes it; every ``drill check`` and ``drill run`` loads it there and the ``drift`` check compares
today's configuration with it.
"""
