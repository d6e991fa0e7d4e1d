"""Database triggers that keep finalized results and their amendments unchangeable.

The app refuses such changes first; the triggers make sure no other path (a script, a SQL console,
a bug) can either. Used by the migration that creates them, and by tests that must empty tables. Applied migrations
depend on this text: change a trigger with a new migration and new constants, never in place.
"""
from __future__ import annotations

MESSAGE = "finalized results never change; record an amendment instead"

SQLITE_CREATE = [
    f"""CREATE TRIGGER final_results_frozen_update BEFORE UPDATE ON final_results
        WHEN OLD.state = 'finalized' BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER final_results_frozen_delete BEFORE DELETE ON final_results
        WHEN OLD.state = 'finalized' BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    """CREATE TRIGGER result_amendments_append_only_update BEFORE UPDATE ON result_amendments
        BEGIN SELECT RAISE(ABORT, 'amendments are never changed'); END""",
    """CREATE TRIGGER result_amendments_append_only_delete BEFORE DELETE ON result_amendments
        BEGIN SELECT RAISE(ABORT, 'amendments are never deleted'); END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS final_results_frozen_update",
    "DROP TRIGGER IF EXISTS final_results_frozen_delete",
    "DROP TRIGGER IF EXISTS result_amendments_append_only_update",
    "DROP TRIGGER IF EXISTS result_amendments_append_only_delete",
]
POSTGRES_CREATE = [
    f"""CREATE FUNCTION final_results_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.state = 'finalized' THEN RAISE EXCEPTION '{MESSAGE}'; END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$""",
    """CREATE TRIGGER final_results_frozen BEFORE UPDATE OR DELETE ON final_results
        FOR EACH ROW EXECUTE FUNCTION final_results_frozen()""",
    """CREATE FUNCTION result_amendments_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'amendments are never changed or deleted'; END $$""",
    """CREATE TRIGGER result_amendments_append_only BEFORE UPDATE OR DELETE ON result_amendments
        FOR EACH ROW EXECUTE FUNCTION result_amendments_append_only()""",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS final_results_frozen ON final_results",
    "DROP FUNCTION IF EXISTS final_results_frozen()",
    "DROP TRIGGER IF EXISTS result_amendments_append_only ON result_amendments",
    "DROP FUNCTION IF EXISTS result_amendments_append_only()",
]


def statements(dialect: str, *, create: bool) -> list[str]:
    if dialect == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    return SQLITE_CREATE if create else SQLITE_DROP
