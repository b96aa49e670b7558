"""Sessions and clients for the clouds, built from a Credentials table, and the error every read raises.

Below both storage (which reads backups) and trust (which asks what credentials could do to them),
so neither imports the other. The SDKs are imported by the modules here, on first use of each.
"""
