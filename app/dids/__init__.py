"""Decentralized Identifiers: did:web, did:jwk (here), did:key (app.dids.did_key), and the resolver."""
