"""Credential status: W3C Bitstring Status List v1.0 (and Status List 2021 for reading)."""
