"""Sessions and clients for the clouds, built from a Credentials table, and the error every read raises.

Below both storage (which reads backups) and trust (which asks what credentials could do to them),
so neither imports the other. ``aws`` imports boto3 and ``gcp`` the Cloud Storage client: import
each only where a target of its cloud exists.
"""
