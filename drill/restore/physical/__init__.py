"""The restore drill of a physical backup: a pgBackRest stanza restored into scratch and recovered.

``source`` chooses between a database's dumps and its stanzas' repositories and ``dispatch`` drills
the chosen copy; ``drill`` runs the physical drill of one database; ``layout`` makes the scratch
directory and drill's own configuration files; ``cluster`` restores the backup there and runs the
recovered server; ``superuser`` finds the role drill logs in as; ``access`` makes the restore role
verification runs as; ``replay`` judges how far recovery got against the archive.
"""
