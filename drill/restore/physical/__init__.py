"""The restore drill of a physical backup: a pgBackRest stanza restored into scratch and recovered.

``layout`` makes the scratch directory and drill's own configuration files, ``cluster`` restores
the backup there and runs the recovered server, ``superuser`` finds the role drill logs in as,
``replay`` judges how far recovery got, and ``drill`` runs the whole drill for one database.
"""
