"""Trust-separation evidence: what the credentials agents hold could do to the backups (the only I/O for agents)."""
