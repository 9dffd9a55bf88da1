"""Decentralized identifiers: did:key, did:web, did:jwk, and one resolver."""
