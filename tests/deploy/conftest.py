"""Deployment tests: the container's entry point and the `migrate` command, run without Docker."""
