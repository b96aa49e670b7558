"""What a finished run becomes and where it goes: JSON, console, JUnit, HTML pages, the report
directory, evidence packs, metrics and notifications. Everything here reads only the run (and the
history the report directory keeps); nothing here changes a run's verdict."""
