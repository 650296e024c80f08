"""Deterministic demo data: a live-looking force, from one seed.

Later features add their own sections (profiles, clearances, requests) to ``load_demo``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from core.auth.models import MFA_REQUIRED_ROLES, Role, TotpAuthenticator, User, sergeant_wards
from core.auth.passwords import hash_password
from core.db import utcnow
from core.geography.models import Bcu, Borough, Ward
from core.geography.services import ensure_demo_wards
from core.timeutil import london_today

# Shared by every demo account: hashing 2,000 Argon2 passwords would take minutes for nothing.
DEMO_PASSWORD = "neighbourhood-demo-2026"  # noqa: S105 - published in the README, demo only
DEMO_DOMAIN = "demo.example"
# The demo coordinator and vetting officers must sign in with an authenticator app, as real ones do.
# They all share this FIXED, PUBLISHED secret so the README's walk works: DEMO ONLY, never a real account.
# `flask accounts demo-code EMAIL` shows the current code; so does any authenticator app given this key.
DEMO_TOTP_SECRET = "DEMOONLYDEMOONLYDEMOONLYDEMOONLY"  # noqa: S105 - published in the README, demo only

# The sign-ins the README lists: (email local part, name, role)
DEMO_STAFF = [
    ("coordinator", "Priya Shah", Role.COORDINATOR),
    ("vetting.officer", "Daniel Okafor", Role.VETTING_OFFICER),
    ("vetting.officer2", "Helen Murray", Role.VETTING_OFFICER),
    ("sergeant", "Tom Fletcher", Role.SERGEANT),
    ("volunteer", "Amira Haddad", Role.VOLUNTEER),
]

FIRST_NAMES = [
    "Oliver",
    "Amelia",
    "Mohammed",
    "Olivia",
    "Noah",
    "Isla",
    "Jack",
    "Ava",
    "Leo",
    "Mia",
    "Arthur",
    "Sophia",
    "Muhammad",
    "Grace",
    "Harry",
    "Freya",
    "Oscar",
    "Lily",
    "Archie",
    "Ella",
    "Aisha",
    "Kwame",
    "Chloe",
    "Ravi",
    "Fatima",
    "Tomasz",
    "Zofia",
    "Chidi",
    "Ngozi",
    "Sean",
    "Siobhan",
    "Yusuf",
    "Hannah",
    "Kofi",
    "Mei",
    "Wei",
    "Anjali",
    "Arjun",
    "Ewa",
    "Luca",
    "Giulia",
    "Dmitri",
    "Amina",
    "Ibrahim",
    "Rosa",
    "Tariq",
    "Nadia",
    "Samuel",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Khan",
    "Ahmed",
    "Patel",
    "Singh",
    "Begum",
    "Ali",
    "Hussain",
    "Okafor",
    "Mensah",
    "Adeyemi",
    "Nowak",
    "Kowalski",
    "Murphy",
    "O'Brien",
    "Chen",
    "Wong",
    "Rossi",
    "Silva",
    "Santos",
    "Ivanova",
    "Hassan",
    "Osei",
    "Campbell",
    "Clarke",
    "Walker",
    "Wright",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Martin",
    "Jackson",
    "Lewis",
    "Robinson",
]


class DemoRefused(Exception):
    """Loading the demo would clash with data already there."""


@dataclass
class DemoSummary:
    wards: int
    volunteers: int
    staff: int

    def __str__(self) -> str:
        return (
            f"Demo data loaded: {self.wards} wards generated, {self.volunteers} volunteers, "
            f"{self.staff} staff accounts. Password for every demo account: {DEMO_PASSWORD}\n"
            f"The demo coordinator and vetting officers also need a security code from an authenticator app. "
            f"DEMO ONLY setup key, shared by them all: {DEMO_TOTP_SECRET}\n"
            f"Or show the current code with: flask accounts demo-code coordinator@{DEMO_DOMAIN}"
        )


def load_demo(
    session: Session,
    scale: int = 2000,
    seed: int = 2026,
    if_empty: bool = False,
    feature_loaders: Sequence[Callable[[Session, random.Random, dt.date], object]] = (),
) -> DemoSummary | str:
    """Load the demo: wards (if none), staff sign-ins, sergeants across the BCUs, ``scale`` volunteers.

    ``feature_loaders`` (wired in by create_app) then add each feature's data in the same
    transaction: volunteers' profiles, their clearances and the vetting queue.
    """
    if session.scalar(select(func.count(User.id))):
        if if_empty:
            return "The database already has accounts: demo data not loaded."
        raise DemoRefused("The database already has accounts. Demo data goes into an empty database only.")
    rng = random.Random(seed)
    wards_created = ensure_demo_wards(session)
    password_hash = hash_password(DEMO_PASSWORD)
    now = utcnow()

    wards_by_borough: dict[int, list[Ward]] = {}
    for ward in session.scalars(select(Ward).order_by(Ward.code)):
        wards_by_borough.setdefault(ward.borough_id, []).append(ward)

    staff_rows = [
        dict(email=f"{local}@{DEMO_DOMAIN}", full_name=name, role=role, password_hash=password_hash, created_at=now)
        for local, name, role in DEMO_STAFF
    ]
    # One more sergeant per BCU, each looking after two to four wards of one borough.
    bcus = list(session.scalars(select(Bcu).order_by(Bcu.code)))
    for bcu in bcus:
        staff_rows.append(
            dict(
                email=f"sergeant.{bcu.code.lower()}@{DEMO_DOMAIN}",
                full_name=_name(rng),
                role=Role.SERGEANT,
                password_hash=password_hash,
                created_at=now,
            )
        )
    session.execute(insert(User), staff_rows)
    # The named staff whose roles need an authenticator app get the published demo one.
    needing_app = [f"{local}@{DEMO_DOMAIN}" for local, _, role in DEMO_STAFF if role in MFA_REQUIRED_ROLES]
    session.execute(
        insert(TotpAuthenticator),
        [
            dict(user_id=user_id, secret=DEMO_TOTP_SECRET, created_at=now)
            for user_id in session.scalars(select(User.id).where(User.email.in_(needing_app)))
        ],
    )

    camden = session.scalar(select(Borough).where(Borough.name == "Camden"))
    sergeant_links = []
    sergeants = session.execute(select(User.id, User.email).where(User.role == Role.SERGEANT)).all()
    boroughs_by_bcu = {b.id: [x.id for x in b.boroughs] for b in bcus}
    for user_id, email in sergeants:
        if email == f"sergeant@{DEMO_DOMAIN}":
            borough_id = camden.id
        else:
            code = email.split(".")[1].split("@")[0].upper()
            bcu = next(b for b in bcus if b.code == code)
            borough_id = rng.choice(boroughs_by_bcu[bcu.id])
        pool = wards_by_borough[borough_id]
        for ward in rng.sample(pool, k=min(len(pool), rng.randint(2, 4))):
            sergeant_links.append({"user_id": user_id, "ward_id": ward.id})
    session.execute(insert(sergeant_wards), sergeant_links)

    volunteer_rows = []
    for number in range(scale - 1):  # the named demo volunteer is one of them
        name = _name(rng)
        email = f"{name.lower().replace(' ', '.').replace(chr(39), '')}.{number + 1}@{DEMO_DOMAIN}"
        volunteer_rows.append(
            dict(email=email, full_name=name, role=Role.VOLUNTEER, password_hash=password_hash, created_at=now)
        )
    for start in range(0, len(volunteer_rows), 5000):
        session.execute(insert(User), volunteer_rows[start : start + 5000])
    today = london_today()
    for loader in feature_loaders:
        loader(session, rng, today)
    session.commit()
    return DemoSummary(wards=wards_created, volunteers=scale, staff=len(staff_rows) - 1)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
