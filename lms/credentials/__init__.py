"""Signed credentials: the pure core (no Flask, no database).

Issuer keys (``keys``), did:web (``did``), vendored JSON-LD contexts with an offline loader
(``loader``), Data Integrity ``eddsa-rdfc-2022`` proofs (``data_integrity``), VC-JOSE compact
JWS (``jose``), W3C Bitstring Status List (``status_list``) and a verifier that returns a
verdict (``verify``). The CLI, jobs, views and tests call these modules the same way; the Flask
side lives in ``models``/``services``/``views``/``cli`` and is imported only from there.
"""
