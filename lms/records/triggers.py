"""Database triggers that keep finalized results and their amendments unchangeable.

The app refuses such changes first; the triggers make sure no other path (a script, a SQL console,
a bug) can either. Used by the migrations that create them, and by tests that must empty tables.
Applied migrations depend on this text: change a trigger with a new migration and new constants,
never in place. v1 guards UPDATE and DELETE; v2 (2026-12-03) closes the paths v1 left open:
SQLite's INSERT OR REPLACE (it deletes the old row without firing delete triggers, unless
recursive_triggers is on), PostgreSQL's TRUNCATE (no row triggers fire), and edits of the scheme
and rule versions a finalized result or a recognised credit points at. PostgreSQL's
INSERT … ON CONFLICT DO UPDATE fires the row UPDATE trigger, so v1 already refuses it.
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


def statements_v1(dialect: str, *, create: bool) -> list[str]:
    if dialect == "postgresql":
        return POSTGRES_CREATE if create else POSTGRES_DROP
    return SQLITE_CREATE if create else SQLITE_DROP


SCHEME_MESSAGE = "scheme versions used by finalized results never change; add a new version instead"
_USED_SCHEME = "SELECT 1 FROM final_results WHERE ja_scheme_id = {row}.id AND state = 'finalized'"
_USED_RULE = ("SELECT 1 FROM final_results WHERE credit_rule_id = {row}.id AND state = 'finalized' "
              "UNION ALL SELECT 1 FROM recognised_credits WHERE credit_rule_id = {row}.id")

SQLITE_CREATE_V2 = [
    f"""CREATE TRIGGER final_results_no_replace BEFORE INSERT ON final_results
        WHEN EXISTS (SELECT 1 FROM final_results WHERE state = 'finalized' AND (id = NEW.id
                     OR (student_id = NEW.student_id AND offering_id = NEW.offering_id)))
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    """CREATE TRIGGER result_amendments_no_replace BEFORE INSERT ON result_amendments
        WHEN EXISTS (SELECT 1 FROM result_amendments WHERE id = NEW.id)
        BEGIN SELECT RAISE(ABORT, 'amendments are never changed'); END""",
] + [
    f"""CREATE TRIGGER {table}_frozen_{op} BEFORE {op.upper()} ON {table}
        WHEN EXISTS ({used.format(row='OLD')}) BEGIN SELECT RAISE(ABORT, '{SCHEME_MESSAGE}'); END"""
    for table, used in (("japanese_grade_schemes", _USED_SCHEME), ("credit_rules", _USED_RULE))
    for op in ("update", "delete")
] + [
    f"""CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table}
        WHEN EXISTS (SELECT 1 FROM {table} AS old WHERE (old.id = NEW.id OR (old.{owner} = NEW.{owner}
                     AND old.version = NEW.version)) AND EXISTS ({used.format(row='old')}))
        BEGIN SELECT RAISE(ABORT, '{SCHEME_MESSAGE}'); END"""
    for table, owner, used in (("japanese_grade_schemes", "partner_id", _USED_SCHEME),
                               ("credit_rules", "program_id", _USED_RULE))
]
SQLITE_DROP_V2 = [
    "DROP TRIGGER IF EXISTS final_results_no_replace",
    "DROP TRIGGER IF EXISTS result_amendments_no_replace",
] + [f"DROP TRIGGER IF EXISTS {table}_{name}" for table in ("japanese_grade_schemes", "credit_rules")
     for name in ("frozen_update", "frozen_delete", "no_replace")]

POSTGRES_CREATE_V2 = [
    f"""CREATE FUNCTION records_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$""",
] + [
    f"""CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
        FOR EACH STATEMENT EXECUTE FUNCTION records_no_truncate()"""
    for table in ("final_results", "result_amendments", "japanese_grade_schemes", "credit_rules")
] + [
    f"""CREATE FUNCTION {table}_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS ({used.format(row='OLD')}) THEN RAISE EXCEPTION '{SCHEME_MESSAGE}'; END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$"""
    for table, used in (("japanese_grade_schemes", _USED_SCHEME), ("credit_rules", _USED_RULE))
] + [
    f"""CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table}
        FOR EACH ROW EXECUTE FUNCTION {table}_frozen()"""
    for table in ("japanese_grade_schemes", "credit_rules")
]
POSTGRES_DROP_V2 = [
    f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}"
    for table in ("final_results", "result_amendments", "japanese_grade_schemes", "credit_rules")
] + ["DROP FUNCTION IF EXISTS records_no_truncate()"] + [
    sql for table in ("japanese_grade_schemes", "credit_rules")
    for sql in (f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}", f"DROP FUNCTION IF EXISTS {table}_frozen()")
]


def statements_v2(dialect: str, *, create: bool) -> list[str]:
    if dialect == "postgresql":
        return POSTGRES_CREATE_V2 if create else POSTGRES_DROP_V2
    return SQLITE_CREATE_V2 if create else SQLITE_DROP_V2


def statements(dialect: str, *, create: bool) -> list[str]:
    """Every trigger in force now (tests lift them all to empty the tables between tests)."""
    if create:
        return statements_v1(dialect, create=True) + statements_v2(dialect, create=True)
    return statements_v2(dialect, create=False) + statements_v1(dialect, create=False)
