"""The vetting audit log on SQLite and PostgreSQL: chained appends, `flask audit verify`, the
append-only triggers, all-or-nothing with the caller's transaction, and concurrent appends."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from core.audit.chain import GENESIS_MAC
from core.audit.models import AuditEntry
from core.audit.services import key_from_config, record, verify
from core.auth.models import Role, User
from tests.helpers import make_user


def record_some(session, key, n: int, actor_id: int | None = None, start: int = 1) -> None:
    for i in range(start, start + n):
        record(
            session,
            actor_id=actor_id,
            action="vetting_record.viewed",
            subject_type="volunteer",
            subject_id=i,
            detail={"fields": ["nationality", "address"], "i": i},
            key=key,
        )


def run_verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


@contextlib.contextmanager
def triggers_disabled(connection: Connection) -> Iterator[None]:
    """Lift the append-only triggers inside ``connection``'s transaction, as a table owner could."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        yield
        connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
        return
    triggers = connection.execute(
        text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
    ).all()
    assert len(triggers) == 2
    for name, _sql in triggers:
        connection.execute(text(f'DROP TRIGGER "{name}"'))
    yield
    for _name, sql in triggers:
        connection.execute(text(sql))


def tamper(app, statement: str) -> None:
    with app.extensions["db_engine"].begin() as connection, triggers_disabled(connection):
        connection.execute(text(statement))


def test_entries_chain_in_one_transaction_and_in_several_and_verify(app, db):
    key = key_from_config(app.config)
    officer = make_user(db, Role.VETTING_OFFICER)
    first = record(
        db,
        actor_id=officer.id,
        action="clearance.granted",
        subject_type="volunteer",
        subject_id="42",
        detail={"level": "NPPV2", "expires": "2029-04-30"},
        key=key,
    )
    assert (first.seq, first.prev_mac) == (1, GENESIS_MAC) and first.id is not None
    record_some(db, key, 2, actor_id=officer.id, start=2)
    db.commit()
    for i in (4, 5):
        record(db, actor_id=None, action="policy.changed", subject_type="policy", subject_id=i, key=key)
        db.commit()

    db.expire_all()
    entries = db.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert all(b.prev_mac == a.mac for a, b in zip(entries, entries[1:], strict=False))
    assert entries[0].detail == '{"expires":"2029-04-30","level":"NPPV2"}'
    assert entries[2].subject_id == "3" and entries[4].detail == "{}" and entries[4].actor_id is None
    assert entries[0].at.tzinfo is not None

    result = run_verify(app)
    assert result.exit_code == 0, result.output
    assert result.output == "Audit log intact: 5 entries checked.\n"


def test_verify_an_empty_log(app):
    result = run_verify(app)
    assert result.exit_code == 0 and result.output == "Audit log intact: 0 entries checked.\n"


@pytest.mark.parametrize(
    "statement, bad_seq, why",
    [
        ("UPDATE audit_log SET detail = '{\"fields\":[]}' WHERE seq = 4", 4, "mac mismatch"),
        ("UPDATE audit_log SET actor_id = NULL WHERE seq = 6", 6, "mac mismatch"),
        ("DELETE FROM audit_log WHERE seq = 3", 4, "gap in seq: entry seq=3 is missing"),
    ],
)
def test_verify_names_the_first_entry_altered_by_hand(app, db, statement, bad_seq, why):
    key = key_from_config(app.config)
    actor = make_user(db, Role.VETTING_OFFICER)
    record_some(db, key, 7, actor_id=actor.id)
    db.commit()
    bad_id = db.scalar(select(AuditEntry.id).where(AuditEntry.seq == bad_seq))
    db.close()

    tamper(app, statement)

    result = run_verify(app)
    assert result.exit_code == 1
    assert result.output.startswith(f"Audit log broken at entry seq={bad_seq} (id={bad_id}): {why}")
    # Streaming in small batches finds the same entry.
    for batch_size in (1, 2, 3, 1000):
        found = verify(db, key, batch_size=batch_size)
        assert (found.ok, found.bad_seq, found.bad_id) == (False, bad_seq, bad_id)
        assert found.checked == bad_seq - (1 if "gap" in why else 0)


def test_verify_with_another_key_fails_at_the_first_entry(app, db):
    record_some(db, key_from_config(app.config), 3)
    db.commit()
    result = verify(db, b"not-the-key-the-entries-were-written-with")
    assert not result.ok and result.bad_seq == 1 and result.reason.startswith("mac mismatch")


def test_the_database_refuses_to_change_or_remove_entries(app, db):
    record_some(db, key_from_config(app.config), 3)
    db.commit()
    statements = [
        "UPDATE audit_log SET action = 'x' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 3",
        "DELETE FROM audit_log",
    ]
    if db.get_bind().dialect.name == "postgresql":
        statements.append("TRUNCATE audit_log")
    engine = app.extensions["db_engine"]
    for statement in statements:
        with engine.connect() as connection:
            with pytest.raises(DBAPIError, match="audit_log is append-only"):
                connection.execute(text(statement))
            connection.rollback()
    # Through the ORM too.
    entry = db.scalars(select(AuditEntry).where(AuditEntry.seq == 1)).one()
    entry.subject_id = "999"
    with pytest.raises(DBAPIError, match="audit_log is append-only"):
        db.commit()
    db.rollback()
    assert db.scalar(select(func.count(AuditEntry.id))) == 3
    assert verify(db, key_from_config(app.config)).ok


def test_an_entry_in_a_rolled_back_transaction_leaves_no_trace_and_no_gap(app, db):
    key = key_from_config(app.config)
    officer = make_user(db, Role.VETTING_OFFICER, full_name="Before")
    record_some(db, key, 1)
    db.commit()
    # The action and its audit entry are one transaction: both go, or neither.
    officer.full_name = "After"
    record(db, actor_id=officer.id, action="clearance.revoked", subject_type="volunteer", subject_id=7, key=key)
    db.rollback()
    assert db.get(User, officer.id).full_name == "Before"
    assert db.scalars(select(AuditEntry.seq)).all() == [1]

    entry = record(db, actor_id=officer.id, action="clearance.revoked", subject_type="volunteer", subject_id=7, key=key)
    db.commit()
    assert entry.seq == 2
    assert verify(db, key).ok and verify(db, key).checked == 2


def test_constraints_stop_a_fork_even_without_the_lock(app, db):
    key = key_from_config(app.config)
    record_some(db, key, 2)
    db.commit()
    second = db.scalars(select(AuditEntry).where(AuditEntry.seq == 2)).one()
    clash = {c: getattr(second, c) for c in ("at", "actor_id", "action", "subject_type", "subject_id", "detail")}
    for seq, prev_mac in ((2, "b" * 64), (3, second.prev_mac)):  # a second seq=2, a second child of entry 1
        db.add(AuditEntry(**clash, seq=seq, prev_mac=prev_mac, mac="c" * 64))
        with pytest.raises(IntegrityError):
            db.commit()
        db.rollback()


def test_an_account_with_audit_entries_cannot_be_deleted(app, db):
    officer = make_user(db, Role.VETTING_OFFICER)
    record_some(db, key_from_config(app.config), 1, actor_id=officer.id)
    db.commit()
    db.delete(officer)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_record_refuses_values_it_could_not_store_faithfully(app, db):
    key = key_from_config(app.config)
    common = dict(actor_id=None, subject_type="volunteer", subject_id="1", key=key)
    with pytest.raises(ValueError, match="action"):
        record(db, action="x" * 61, **common)
    with pytest.raises(ValueError, match="action"):
        record(db, action="", **common)
    with pytest.raises(TypeError):
        record(db, action="clearance.granted", detail={"when": object()}, **common)
    assert db.scalar(select(func.count(AuditEntry.id))) == 0


def test_concurrent_appends_do_not_fork_the_chain(app):
    key = key_from_config(app.config)
    make_session = app.extensions["db_sessionmaker"]
    start = threading.Barrier(2)
    errors: list[Exception] = []

    def append(worker: int) -> None:
        try:
            with make_session() as session:
                start.wait(timeout=30)
                for i in range(20):
                    record(
                        session,
                        actor_id=None,
                        action="vetting_record.viewed",
                        subject_type="volunteer",
                        subject_id=f"{worker}-{i}",
                        detail={"worker": worker, "i": i},
                        key=key,
                    )
                    session.commit()
        except Exception as exc:  # reported by the assertion below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=append, args=(worker,)) for worker in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors

    with make_session() as session:
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.prev_mac, AuditEntry.subject_id).order_by(AuditEntry.seq)
        ).all()
        assert [r.seq for r in rows] == list(range(1, 41))
        assert len({r.prev_mac for r in rows}) == 40
        workers = [r.subject_id.split("-")[0] for r in rows]
        assert workers.count("1") == workers.count("2") == 20
        result = verify(session, key, batch_size=7)
    assert result.ok and result.checked == 40
