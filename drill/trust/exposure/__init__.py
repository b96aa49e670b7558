"""Where an agent could read a backup credential: a bounded scan of the agent's ``paths`` and
``env_file`` for the credentials drill knows from the config, and for well-known credential shapes.

The incident drill exists for began with an agent finding a token in a file nobody thought of as
holding one. So the scan looks for two things in every text file an agent can read:

- the backup credentials themselves (``known_credentials``): access key ids, secret access keys
  and session tokens read from the variables the config names, the keys of the AWS credentials
  files and service-account key files it names; and whole copies of those files;
- credential shapes (AWS ``aws_secret_access_key = ...`` lines, GCP service-account JSON, ``.env``
  assignments such as ``PGPASSWORD=...``, ``.pgpass`` lines, AWS access key ids): credentials
  drill cannot tie to a backup, but which an agent could use all the same.

Bounded and fast: files larger than ``max_file_bytes`` and binaries (a NUL byte in the first
8 KiB) are counted and skipped, the walk stops after ``max_files``, VCS object stores and
/proc, /sys and /dev are not entered, and a symlink is followed only when it stays inside the scanned roots, each file and directory
once (loops end there). Values are searched with ``bytes.find``, one pass per value: measured
here six times faster than one compiled alternation of the same twenty values.

No secret leaves this package: a sighting carries a masked form, and ``KnownValue`` keeps its
value out of ``repr``.

``known`` holds what drill knows and ``learn`` reads it from the config; one module per credential
kind (``aws``, ``gcp``, ``env``, ``pgpass``) learns its known values and recognises its shapes;
``search`` finds both in one file's bytes; ``walk`` reads an agent's files within the bounds.
"""

from __future__ import annotations
