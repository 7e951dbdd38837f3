"""Fault tests: parts of Cradle killed, starved or confused while they work."""
