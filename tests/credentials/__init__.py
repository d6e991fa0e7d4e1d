"""Builders shared by the credentials tests (pure: no app, no database)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lms.credentials.keys import IssuerKey
from lms.credentials.loader import CLR_V2, OB_V3, VC_V2

ISSUER = "did:web:jdu.uz"
ISSUED = datetime(2026, 12, 3, 12, 55, tzinfo=UTC)


def fixed_key(seed: int, key_id: str = "key-20261203T125500Z") -> IssuerKey:
    """A deterministic key, so failures reproduce."""
    private = Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)
    return IssuerKey(key_id, private.public_key(), private, ISSUED)


def course_result(*, issuer: str = ISSUER, student: str = "urn:uuid:7c1f9e2a-0b6d-4c43-9d51-3a8e2f6b1c07",
                  course: str = "CS-201", name: str = "Databases I", score: str = "87",
                  credits: float = 4.0, index: int = 0) -> dict:
    """An OB 3.0 AchievementCredential for one final course result, as the records export makes it."""
    return {
        "@context": [VC_V2, OB_V3],
        "id": f"https://jdu.uz/credentials/3f1c2b7e-{index:04d}-4a51-8e0d-6b9c1d2e3f40",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Japan Digital University",
                   "url": "https://jdu.uz"},
        "validFrom": "2026-12-03T12:55:00Z",
        "name": f"{name}: final result",
        "credentialSubject": {
            "id": student,
            "type": ["AchievementSubject"],
            "creditsEarned": credits,
            "term": "2026 Autumn",
            "achievement": {
                "id": f"https://jdu.uz/courses/{course}",
                "type": ["Achievement"],
                "achievementType": "Course",
                "name": name,
                "humanCode": course,
                "description": "Relational modelling, SQL and transactions.",
                "criteria": {"narrative": "Pass the final examination and the term project."},
                "creditsAvailable": 4.0,
                "resultDescription": [{
                    "id": f"https://jdu.uz/courses/{course}/results/score",
                    "type": ["ResultDescription"],
                    "name": "Final score",
                    "resultType": "Percent",
                    "valueMin": "0",
                    "valueMax": "100",
                }],
            },
            "result": [{
                "type": ["Result"],
                "resultDescription": f"https://jdu.uz/courses/{course}/results/score",
                "value": score,
                "status": "Completed",
            }],
        },
    }


def transcript(credentials: list[dict], *, issuer: str = ISSUER) -> dict:
    """A CLR 2.0 ClrCredential embedding ``credentials`` (signed or not)."""
    return {
        "@context": [VC_V2, CLR_V2, OB_V3],
        "id": "https://jdu.uz/credentials/clr/5a0e8f1d-2c3b-4d5e-9f60-718293a4b5c6",
        "type": ["VerifiableCredential", "ClrCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Japan Digital University"},
        "validFrom": "2026-12-03T12:55:00Z",
        "name": "Academic record",
        "credentialSubject": {
            "id": "urn:uuid:7c1f9e2a-0b6d-4c43-9d51-3a8e2f6b1c07",
            "type": ["ClrSubject"],
            "verifiableCredential": copy.deepcopy(credentials),
            "achievement": [copy.deepcopy(c["credentialSubject"]["achievement"]) for c in credentials],
        },
    }
