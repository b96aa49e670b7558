"""Renderers of a finished run: JSON, console table, and (later) HTML and JUnit. They read only the run."""
