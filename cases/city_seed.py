"""The big-city data set behind `python manage.py seed_demo --scale city`.

25 regions, 500 staff users, 40,000 families with 100,000 persons, 50,000 cases,
80,000 helps over five years with approvals, help plans, goals, ratings, team
consultations, daily rates and notes, 5,000,000 hour entries with month
approvals, 2,000 group offers with their sessions, and the service contracts of
every region and year with plan lines, postings and some reallocations.
`fraction` scales every count (0.001 gives a data set for tests in seconds).

Speed: every table is written with one streamed PostgreSQL COPY (text format;
the rows are generated while the server stores the earlier ones), ids are
assigned here, and for the big tables the secondary indexes and the unique and
foreign-key constraints are dropped for the load and re-created afterwards from
their exact catalogue definitions (a sorted index build and one validating join
per foreign key are much cheaper than five million single-row index insertions
and twenty million deferred FK checks). CHECK constraints and the exclusion
constraint against overlapping hour entries stay on during the load, so the
database validates every row as it arrives. The trigger that keeps the hour
rollups is disabled for the hour entries' COPY (inside the seed's transaction);
the rollups are then rebuilt with one GROUP BY and the trigger enabled again.

Everything is derived from one `random.Random(seed)` per topic and from
`today`, so two runs on the same day give the same rows.
"""

import datetime
import io
import random
import time
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, models
from psycopg2 import sql

from budgets.models import (
    Direction,
    PlanCategory,
    PlanLine,
    Posting,
    Reallocation,
    ReallocationStatus,
    ServiceContract,
    SubBudget,
    SubBudgetKind,
)
from budgets.selectors import stationary_cost, stationary_rates
from cases.management.commands.seed_demo import (
    BASIS_WEIGHTS,
    CLOSING_REASONS,
    CULTURE_WEIGHTS,
    FAMILY_HELP_SHARE,
    FIRST_NAMES,
    HOURS,
    RECIPIENT_AGES,
    SETTING_WEIGHTS,
    STREETS,
    SURNAMES,
    public_holidays,
)
from cases.models import (
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseNote,
    DailyRate,
    Family,
    GoalRating,
    Help,
    HelpApproval,
    HelpEndReason,
    HelpPlan,
    HelpPlanGoal,
    Person,
    Region,
    Resource,
    ResourceKind,
    RiskAssessment,
    Setting,
    Team,
    TeamConsultation,
    allowed_settings,
)
from cases.services import rebuild_goal_outcomes
from core.models import Role, User
from providers.models import (
    Activity,
    Consortium,
    GroupOffer,
    GroupSession,
    HourEntry,
    MonthApproval,
    Provider,
)
from providers.services import rebuild_hour_rollups

CITY_SEED = 7
CITY_PASSWORD = "demo"  # nosec B105  # documented demo login, seeding is opt-in
MARKER_SLUG = "city-01"
HOUR_ROLLUP_TRIGGER = "providers_hour_rollup"  # providers migration 0004
HOURS_CHANGED_TRIGGER = "core_hours_changed"  # core migration 0006
# Disabled during the COPY of the hour entries (rebuild_hour_rollups does their work).
HOUR_ENTRY_TRIGGERS = (HOUR_ROLLUP_TRIGGER, HOURS_CHANGED_TRIGGER)
GOAL_OUTCOME_TRIGGER = "cases_goal_outcome_of_rating"  # cases migration 0008
YEARS = 5

FULL = {
    "regions": 25,
    "consortium_providers": 15,
    "stationary_providers": 6,
    "caseworkers": 126,
    "provider_users": 345,  # 19 staff and 2 leads per consortium member, 3 and 2 per home
    "families": 40_000,
    "persons": 100_000,
    "cases": 50_000,
    "helps": 80_000,
    "hour_entries": 5_000_000,
    "group_offers": 2_000,
}
MINIMUM = {
    "regions": 2,
    "consortium_providers": 3,
    "stationary_providers": 2,
    "group_offers": 1,
}
CONSORTIUM_STAFF, HOME_STAFF = 19, 3  # professionals (besides two leads) per provider
OFFICE_USERS = [
    ("leitung", "Ulrike", "Dreisbach", Role.DEPARTMENT_HEAD),
    ("controlling", "Peter", "Irle", Role.CONTROLLER),
    ("datenschutz", "Monika", "Stötzel", Role.DATA_PROTECTION),
    ("admin", "Kai", "Menn", Role.ADMIN),
]
DISTRICTS = [
    "Altstadt",
    "Nordstadt",
    "Südstadt",
    "Weststadt",
    "Oststadt",
    "Hafen",
    "Bahnhofsviertel",
    "Lindenhof",
    "Am Markt",
    "Gartenstadt",
    "Neustadt",
    "Bergviertel",
    "Kirchfeld",
    "Rosengarten",
    "Talaue",
    "Schlosspark",
    "Mühlenbach",
    "Eichenhain",
    "Feldmark",
    "Auenviertel",
    "Sonnenberg",
    "Kreuzberg",
    "Hochfeld",
    "Wiesengrund",
    "Brückenviertel",
]
PROVIDER_WORDS = [
    "Jugendhilfe",
    "Familienhilfe",
    "Sozialdienst",
    "Kinderhilfe",
    "Jugendwerk",
    "Familienzentrum",
]
STATIONARY_NAMES = ["Kinderheim", "Jugendwohngruppe", "Kinderdorf", "Wohnverbund"]

# Durations in months: planned; the real end varies around it (see _draft_help).
PLANNED_MONTHS = {
    Setting.FLEXIBLE: [4, 6, 6, 9, 12, 12, 18],
    Setting.AMBULANT: [3, 6, 6, 9, 12, 12, 18, 24],
    Setting.DAY_CARE: [12, 12, 18, 24],
    Setting.STATIONARY: [12, 18, 24, 24, 36],
}
COUNSELLING_MONTHS = [2, 3, 4, 6]
DAILY_RATES = {"33": (38, 65), "default": (160, 340)}
ENDED_REASONS_EARLY = {
    HelpEndReason.BROKEN_OFF_FAMILY: 50,
    HelpEndReason.BROKEN_OFF_PROVIDER: 20,
    HelpEndReason.CHANGED: 30,
}
REQUESTED_SHARE = 0.25  # of helps starting in the last four weeks, still awaiting approval
REJECTED_SHARE = 0.01
PARALLEL_SHARE = 0.5  # of further helps in a case that run beside the previous one
RESOURCE_SHARE = 0.4
RISK_SHARE = 0.04
RATE_INCREASE_SHARE = 1 / 3

# Hour entries: a professional's day of short entries one after another.
ENTRY_MINUTES = [15, 15, 15, 30, 30, 30, 45, 45, 60, 60, 90]
GAPS = [0, 0, 0, 15]
DAY_START = (450, 480, 495, 510, 525)  # 7:30 .. 8:45
LATEST_END = 22 * 60
MAX_DAY_MINUTES = 14 * 60
ABSENT_SHARE = 0.11
UNTIMED_SHARE = 0.04
CASE_SHARE = 0.72
CROSS_SHARE = 0.14
CASE_ACTIVITIES = [Activity.DIRECT_WORK] * 6 + [Activity.CASE_CONFERENCE]
CROSS_ACTIVITIES = [Activity.TEAM_MEETING, Activity.CASE_CONFERENCE, Activity.OTHER]
UNSPECIFIC_ACTIVITIES = [
    Activity.NETWORKING,
    Activity.PREVENTION,
    Activity.GROUP_OFFER,
    Activity.TRAINING,
]
NOTES = {
    Activity.DIRECT_WORK: ["", "", "", "Hausbesuch", "Telefonat mit der Mutter", "Schulgespräch"],
    Activity.CASE_CONFERENCE: ["Hilfeplangespräch", "Fallbesprechung"],
    Activity.TEAM_MEETING: ["Teamsitzung", "Kollegiale Beratung"],
    Activity.OTHER: ["Dokumentation", "Fahrtzeit"],
    Activity.NETWORKING: ["Stadtteilkonferenz", "Netzwerktreffen Frühe Hilfen"],
    Activity.PREVENTION: ["Offene Sprechstunde im Familienzentrum", "Elterncafé"],
    Activity.GROUP_OFFER: ["Gruppenangebot", "Vorbereitung Gruppe"],
    Activity.TRAINING: ["Supervision", "Fortbildung"],
}

GROUP_TOPICS = [
    ("Elterncafé", "Eltern mit Kleinkindern"),
    ("Mädchengruppe", "Mädchen 10–14 Jahre"),
    ("Jungengruppe", "Jungen 10–14 Jahre"),
    ("Hausaufgabenhilfe", "Grundschulkinder"),
    ("Starke Eltern – starke Kinder", "Eltern"),
    ("Bewerbungstraining", "Jugendliche ab 15"),
    ("Babytreff", "Eltern mit Säuglingen"),
    ("Ferienprogramm", "Kinder 6–12 Jahre"),
]
RESOURCE_NAMES = [
    ("Kita Sonnenschein", ResourceKind.KINDERGARTEN),
    ("Grundschule am Park", ResourceKind.SCHOOL),
    ("Gesamtschule", ResourceKind.SCHOOL),
    ("Schulsozialarbeit", ResourceKind.SCHOOL_SOCIAL_WORK),
    ("Jugendtreff", ResourceKind.YOUTH_CLUB),
    ("Sportverein", ResourceKind.SPORTS_CLUB),
    ("Kirchengemeinde", ResourceKind.CHURCH),
    ("Erziehungsberatungsstelle", ResourceKind.COUNSELLING),
    ("Tafel", ResourceKind.INITIATIVE),
    ("Familienzentrum", ResourceKind.OTHER),
]
GOALS = [
    "Die Familie hat eine verlässliche Tagesstruktur.",
    "Das Kind besucht regelmäßig die Schule.",
    "Die Eltern nutzen Beratung bei Konflikten.",
    "Der Jugendliche hält Absprachen ein.",
    "Die Familie kennt Angebote im Sozialraum und nutzt sie.",
    "Die Wohnung ist sicher und aufgeräumt.",
    "Die Mutter findet Entlastung im Alltag.",
    "Der Übergang in eine eigene Wohnung ist vorbereitet.",
]
STEPS = [
    "Wöchentliche Termine in der Familie; Kontakt zur Schule; Überprüfung in sechs Monaten.",
    "Begleitung zu Ämtern und Ärzten; Anbindung an den Jugendtreff.",
    "Elterngespräche alle zwei Wochen; Gruppenangebot für das Kind.",
]
NOTE_TEXTS = [
    ("phone", "Telefonat mit der Mutter; Termin für den Hausbesuch vereinbart."),
    ("home_visit", "Hausbesuch: Situation ruhig, Absprachen werden eingehalten."),
    ("meeting", "Gespräch mit Schule und Familie; nächste Schritte besprochen."),
    ("note", "Bericht des Trägers eingegangen und abgelegt."),
]
REPORT_SOURCES = ["Schule", "Kita", "Nachbarin", "Polizei", "Kinderarzt"]
RISK_LEVELS = ["none", "unclear", "latent", "acute"]
FLEXIBLE_PER_STAFF = 62_000  # personnel cost of one professional a year (current year)
YEARLY_INCREASE = 0.035


def scaled_counts(fraction: float) -> dict[str, int]:
    return {key: max(MINIMUM.get(key, 0), round(value * fraction)) for key, value in FULL.items()}


def _weighted(rng, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return datetime.date(year, month, min(day.day, last))


def _text(value) -> str:
    """A value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    return str(value)


def _stamp(day: datetime.date, minutes: int = 600) -> str:
    return f"{day.isoformat()} {minutes // 60:02d}:{minutes % 60:02d}:00+01"


CLOCK = [f"{m // 60:02d}:{m % 60:02d}:00" for m in range(24 * 60 + 1)]


class H:
    """A help being drafted (slots: 80,000 of them are held at full scale)."""

    __slots__ = (
        "id",
        "case",
        "recipient",
        "basis",
        "setting",
        "provider",
        "staff",
        "start",
        "planned_end",
        "end",
        "end_reason",
        "hours",
        "rate",
        "status",
        "consultation",
        "region",
    )


class C:
    __slots__ = ("id", "family", "owner", "team", "lead", "opened", "closed", "reason", "region")


class Loader:
    """COPY rows into tables and keep the timings."""

    # Foreign keys and unique constraints; exclusion constraints stay (see deferred_indexes).
    dropped_constraint_types = ("f", "u")

    def __init__(self, cursor, write):
        self.cursor = cursor
        self.write = write
        self.timings: list[tuple[str, int, float]] = []

    def next_id(self, model) -> int:
        self.cursor.execute(
            sql.SQL("SELECT COALESCE(MAX(id), 0) + 1 FROM {}").format(
                sql.Identifier(model._meta.db_table)
            )
        )
        return self.cursor.fetchone()[0]

    @staticmethod
    def defaults(model, fields) -> list[tuple[str, object]]:
        """Columns left out of `fields` that need a value: the model default, or '' for text.

        COPY does not apply Django's defaults, and a field added later by a migration
        should not break the seed.
        """
        named = {model._meta.get_field(name).column for name in fields}
        extra = []
        for field in model._meta.concrete_fields:
            if field.column in named or field.null or field.primary_key:
                continue
            if field.has_default():
                extra.append((field.column, field.get_default()))
            elif isinstance(field, (models.CharField, models.TextField)):
                extra.append((field.column, ""))
        return extra

    def copy(self, model, fields, rows, *, lines=None, bulk=False) -> int:
        """COPY `rows` (tuples in the order of `fields`) or preformatted `lines`."""
        table = model._meta.db_table
        started = time.monotonic()
        extra = self.defaults(model, fields)
        columns = [model._meta.get_field(name).column for name in fields]
        columns = ", ".join(f'"{column}"' for column in columns + [c for c, _ in extra])
        if extra:
            suffix = "".join("\t" + _text(value) for _, value in extra) + "\n"
            source = lines if lines is not None else ("\t".join(map(_text, r)) + "\n" for r in rows)
            lines = (line[:-1] + suffix for line in source)
        with self.deferred_indexes(table) if bulk else _nothing():
            count = self._copy(table, columns, rows, lines)
        self.reset_sequence(table)
        elapsed = time.monotonic() - started
        self.timings.append((table, count, elapsed))
        self.write(f"  {table:<44}{count:>10,} rows {elapsed:8.1f} s")
        return count

    def _copy(self, table, columns, rows, lines) -> int:
        """One streamed COPY: rows are generated while the server stores the earlier ones."""
        source = lines if lines is not None else ("\t".join(map(_text, r)) + "\n" for r in rows)
        stream = _Stream(source)
        self.cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', stream, size=1 << 20)
        return stream.count

    def reset_sequence(self, table: str) -> None:
        self.cursor.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                "COALESCE((SELECT MAX(id) FROM {}), 0) + 1, false)"
            ).format(sql.Identifier(table)),
            [f'"{table}"'],
        )

    @contextmanager
    def deferred_indexes(self, table: str):
        """Drop secondary indexes and unique/FK constraints; re-create them exactly.

        Exclusion constraints stay: building their GiST index afterwards costs as much
        as inserting into it row by row (measured), and during a streamed COPY the
        server does that work while we generate the next rows.
        """
        cursor = self.cursor
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = ANY(%s) ORDER BY contype, conname",
            [table, list(self.dropped_constraint_types)],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass) ORDER BY indexname",
            [table, table],
        )
        indexes = cursor.fetchall()
        for name, _definition in constraints:
            cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        yield
        started = time.monotonic()
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in constraints:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        self.write(
            f"    {len(indexes)} indexes and {len(constraints)} constraints re-created "
            f"in {time.monotonic() - started:.1f} s"
        )


@contextmanager
def _nothing():
    yield


class _Stream(io.TextIOBase):
    """A file-like view of generated COPY lines, read by psycopg2 in chunks."""

    def __init__(self, lines):
        self.lines = lines
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        chunk, length = [], 0
        for line in self.lines:
            chunk.append(line)
            length += len(line)
            if 0 <= size <= length:
                break
        self.count += len(chunk)
        return "".join(chunk)


class CitySeed:
    def __init__(self, *, fraction: float, today: datetime.date, write, seed: int = CITY_SEED):
        self.fraction = fraction
        self.n = scaled_counts(fraction)
        self.today = today
        self.write = write
        self.seed = seed
        self.first_day = datetime.date(today.year - YEARS + 1, 1, 1)
        self.review_months = settings.KIJUFAZ_REVIEW_INTERVAL_MONTHS
        self.decision_months = settings.KIJUFAZ_TEAM_DECISION_MONTHS

    def rng(self, topic: str) -> random.Random:
        return random.Random(f"{self.seed}-{topic}")  # noqa: S311  # nosec B311  # demo data

    def build(self) -> list[tuple[str, int, float]]:
        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # the psycopg2 cursor, for copy_expert
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            # Foreign keys checked at the end of each COPY, so no trigger events are pending
            # when the next table's constraints are dropped.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self.load = Loader(cursor, self.write)
            self._organisation()
            self._families()
            self._cases_and_helps()
            self._plans()
            self._case_records()
            self._group_offers()
            self._hours()
            self._contracts()
        return self.load.timings

    # --- organisation --------------------------------------------------------------

    def _organisation(self) -> None:
        rng, load, n = self.rng("organisation"), self.load, self.n
        rid = load.next_id(Region)
        self.regions = []
        for i in range(n["regions"]):
            name = DISTRICTS[i % len(DISTRICTS)] + (
                f" {i // len(DISTRICTS) + 1}" if i >= 25 else ""
            )
            self.regions.append((rid + i, f"city-{i + 1:02d}", f"Sozialraum {name}", name))
        load.copy(
            Region,
            ["id", "name", "slug", "inhabitants", "description"],
            [
                (r, title, slug, rng.randint(15, 45) * 1000, f"Großstadt-Sozialraum {name}.")
                for r, slug, title, name in self.regions
            ],
        )
        pid = load.next_id(Provider)
        consortium = [pid + i for i in range(n["consortium_providers"])]
        stationary = [pid + len(consortium) + i for i in range(n["stationary_providers"])]
        rows = []
        for i, p in enumerate(consortium):
            word = PROVIDER_WORDS[i % len(PROVIDER_WORDS)]
            rows.append(
                (p, f"{word} Stadtmitte {i + 1:02d} gGmbH", f"{word} {i + 1:02d}", "consortium")
            )
        for i, p in enumerate(stationary):
            word = STATIONARY_NAMES[i % len(STATIONARY_NAMES)]
            rows.append(
                (p, f"{word} am Stadtrand {i + 1:02d}", f"{word} {i + 1:02d}", "stationary")
            )
        load.copy(Provider, ["id", "name", "short_name", "kind"], rows)
        self.consortium, self.stationary = consortium, stationary
        # Each region works with three consortium members; every member serves several regions.
        groups = max(1, len(consortium) // 3)
        self.region_providers = {
            r[0]: [consortium[(i % groups) * 3 + k] for k in range(3)]
            for i, r in enumerate(self.regions)
        }
        cid = load.next_id(Consortium)
        load.copy(
            Consortium,
            ["id", "region", "name", "valid_from"],
            [
                (cid + i, r, f"Hilfeleisterteam {title}", self.first_day)
                for i, (r, _slug, title, _name) in enumerate(self.regions)
            ],
        )
        through = Consortium.members.through
        mid = load.next_id(through)
        load.copy(
            through,
            ["id", "consortium", "provider"],
            [
                (mid + 3 * i + k, cid + i, p)
                for i, r in enumerate(self.regions)
                for k, p in enumerate(self.region_providers[r[0]])
            ],
        )
        tid = load.next_id(Team)
        self.team_of_region = {r[0]: tid + i for i, r in enumerate(self.regions)}
        load.copy(
            Team,
            ["id", "name", "region"],
            [(tid + i, f"ASD-Team {r[3]}", r[0]) for i, r in enumerate(self.regions)],
        )
        self._users(rng)

    def _users(self, rng) -> None:
        n, load = self.n, self.load
        uid = load.next_id(User)
        password = make_password(CITY_PASSWORD)  # hashed once, shared by every generated user
        users = []  # (username, first, last, role, team, provider)
        self.office = {}
        for username, first, last, role in OFFICE_USERS:
            self.office[role] = uid + len(users)
            users.append((f"city-{username}", first, last, role, None, None))
        self.leads, self.caseworkers = {}, defaultdict(list)
        for r, slug, *_ in self.regions:
            team = self.team_of_region[r]
            self.leads[team] = uid + len(users)
            users.append((f"{slug}-lead", *self._name(rng), Role.ASD_LEAD, team, None))
        teams = list(self.leads)
        for i in range(max(n["caseworkers"], 2 * len(teams))):
            team = teams[i % len(teams)]
            self.caseworkers[team].append(uid + len(users))
            users.append((f"asd-{i + 1:03d}", *self._name(rng), Role.ASD, team, None))
        self.provider_staff, self.provider_leads = defaultdict(list), defaultdict(list)
        providers = len(self.consortium) + len(self.stationary)
        staff = max(providers, n["provider_users"] - 2 * providers)
        weight = staff / (
            CONSORTIUM_STAFF * len(self.consortium) + HOME_STAFF * len(self.stationary)
        )
        for providers, per in (
            (self.consortium, max(1, round(CONSORTIUM_STAFF * weight))),
            (self.stationary, max(1, round(HOME_STAFF * weight))),
        ):
            for p in providers:
                for k in range(2):
                    self.provider_leads[p].append(uid + len(users))
                    users.append(
                        (f"p{p}-lead{k + 1}", *self._name(rng), Role.PROVIDER_LEAD, None, p)
                    )
                for k in range(per):
                    self.provider_staff[p].append(uid + len(users))
                    users.append(
                        (f"p{p}-staff{k + 1:02d}", *self._name(rng), Role.PROVIDER_STAFF, None, p)
                    )
        joined = _stamp(self.first_day - datetime.timedelta(days=30))
        load.copy(
            User,
            [
                "id",
                "password",
                "is_superuser",
                "username",
                "first_name",
                "last_name",
                "email",
                "is_staff",
                "is_active",
                "date_joined",
                "role",
                "team",
                "provider",
            ],
            [
                (
                    uid + i,
                    password,
                    False,
                    username,
                    first,
                    last,
                    f"{username}@example.org",
                    role == Role.ADMIN,
                    True,
                    joined,
                    role,
                    team,
                    provider,
                )
                for i, (username, first, last, role, team, provider) in enumerate(users)
            ],
        )
        self.user_count = len(users)

    def _name(self, rng) -> tuple[str, str]:
        culture = _weighted(rng, CULTURE_WEIGHTS)
        gender = rng.choice("fm")
        return rng.choice(FIRST_NAMES[culture][f"parent_{gender}"]), rng.choice(SURNAMES[culture])

    # --- families and persons ----------------------------------------------------------

    def _families(self) -> None:
        rng, n, load, today = self.rng("families"), self.n, self.load, self.today
        weights = [rng.randint(15, 45) for _ in self.regions]
        region_ids = [r[0] for r in self.regions]
        streets = [s for group in STREETS.values() for s in group]
        fid, pid = load.next_id(Family), load.next_id(Person)
        families, persons = [], []
        self.family_region = {}
        self.children = defaultdict(list)  # family -> [(person, birth)]
        self.persons_of_region = defaultdict(list)
        extra = [0] * n["families"]
        for _ in range(max(0, n["persons"] - 2 * n["families"])):
            extra[rng.randrange(n["families"])] += 1
        for i in range(n["families"]):
            f = fid + i
            region = rng.choices(region_ids, weights=weights)[0]
            culture = _weighted(rng, CULTURE_WEIGHTS)
            surname = rng.choice(SURNAMES[culture])
            street, postal = rng.choice(streets)
            families.append(
                (
                    f,
                    surname,
                    f"{street} {rng.randint(1, 120)}",
                    postal,
                    "Siegen",
                    region,
                    f"0271 {rng.randint(100000, 999999)}",
                    _stamp(self.first_day),
                )
            )
            self.family_region[f] = region
            names = FIRST_NAMES[culture]
            parents = 2 if extra[i] and rng.random() < 0.45 else 1
            children = 1 + extra[i] - (parents - 1)
            mother_age = rng.randint(24, 45)
            for k in range(parents):
                gender = "f" if k == 0 else "m"
                born = today - datetime.timedelta(
                    days=(mother_age + 2 * k) * 365 + rng.randint(0, 364)
                )
                persons.append(
                    (
                        pid + len(persons),
                        f,
                        rng.choice(names[f"parent_{gender}"]),
                        surname,
                        born,
                        "parent",
                        gender,
                    )
                )
            for _ in range(children):
                gender = rng.choice("fm")
                age = rng.randint(0, min(20, mother_age - 17))
                born = today - datetime.timedelta(days=age * 365 + rng.randint(0, 364))
                role = "child" if age < 14 else "youth" if age < 18 else "young_adult"
                person = pid + len(persons)
                persons.append(
                    (person, f, rng.choice(names[f"child_{gender}"]), surname, born, role, gender)
                )
                self.children[f].append((person, born))
                self.persons_of_region[region].append(person)
        load.copy(
            Family,
            ["id", "name", "street", "postal_code", "city", "region", "phone", "created_at"],
            families,
            bulk=True,
        )
        load.copy(
            Person,
            ["id", "family", "first_name", "last_name", "birth_date", "role", "gender"],
            persons,
            bulk=True,
        )
        self.family_ids = [f[0] for f in families]

    # --- cases and helps ---------------------------------------------------------------

    def _cases_and_helps(self) -> None:
        rng, n, load, today = self.rng("cases"), self.n, self.load, self.today
        window = (today - self.first_day).days
        two_case = set(
            rng.sample(
                self.family_ids, max(0, min(len(self.family_ids), n["cases"] - n["families"]))
            )
        )
        case_id = load.next_id(Case)
        cases: list[C] = []
        for family in self.family_ids:
            region = self.family_region[family]
            team = self.team_of_region[region]
            owner = rng.choice(self.caseworkers[team])
            # A family with two cases: the first closed long before the second opens.
            spans = [(0.0, 0.35), (0.6, 1.0)] if family in two_case else [(0.0, 1.0)]
            for k, (low, high) in enumerate(spans):
                c = C()
                c.id, c.family, c.team, c.owner, c.lead = (
                    case_id + len(cases),
                    family,
                    team,
                    owner,
                    self.leads[team],
                )
                c.region = region
                latest = max(0, min(int(window * high), window - 14))
                c.opened = self.first_day + datetime.timedelta(
                    days=rng.randint(int(window * low), latest)
                )
                c.closed = None
                c.reason = "first" if len(spans) == 2 and k == 0 else ""
                cases.append(c)
        per_case = [1] * len(cases)
        for _ in range(max(0, n["helps"] - len(cases))):
            k = rng.randrange(len(cases))
            if per_case[k] < 4:
                per_case[k] += 1
        help_id = load.next_id(Help)
        helps: list[H] = []
        cap = self.first_day + datetime.timedelta(days=int(window * 0.5))
        for c, count in zip(cases, per_case, strict=True):
            previous = None
            for _ in range(count):
                h = self._draft_help(rng, c, previous, cap if c.reason == "first" else None)
                h.id = help_id + len(helps)
                helps.append(h)
                previous = h
            running = [h for h in helps[-count:] if h.end is None]
            if not running:
                closed = max(h.end for h in helps[-count:]) + datetime.timedelta(
                    days=rng.randint(14, 90)
                )
                if closed < today:
                    c.closed = closed
            c.reason = _weighted(rng, CLOSING_REASONS) if c.closed else ""
        self.cases, self.helps = cases, helps
        self.case_by_id = {c.id: c for c in cases}
        write_consultations = self._consultations(rng)
        load.copy(
            Case,
            [
                "id",
                "reference",
                "family",
                "owner",
                "team",
                "status",
                "opened_on",
                "closed_on",
                "closing_reason",
                "closing_note",
                "created_at",
                "confidential",
                "legal_hold",
                "legal_hold_reason",
            ],
            (
                (
                    c.id,
                    f"{c.opened:%Y}-{c.id:06d}",
                    c.family,
                    c.owner,
                    c.team,
                    "closed" if c.closed else "open",
                    c.opened,
                    c.closed,
                    c.reason,
                    "",
                    _stamp(c.opened),
                    False,
                    False,
                    "",
                )
                for c in cases
            ),
            bulk=True,
        )
        write_consultations()
        load.copy(
            Help,
            [
                "id",
                "case",
                "recipient",
                "legal_basis",
                "setting",
                "provider",
                "team_consultation",
                "responsible_staff",
                "start",
                "planned_end",
                "end",
                "end_reason",
                "planned_hours_per_month",
                "daily_rate",
                "status",
                "created_by",
                "created_at",
            ],
            (
                (
                    h.id,
                    h.case.id,
                    h.recipient,
                    h.basis,
                    h.setting,
                    h.provider,
                    h.consultation,
                    h.staff,
                    h.start,
                    h.planned_end,
                    h.end,
                    h.end_reason,
                    h.hours,
                    h.rate,
                    h.status,
                    h.case.owner,
                    _stamp(h.start - datetime.timedelta(days=10)),
                )
                for h in helps
            ),
            bulk=True,
        )
        self._approvals_and_rates(rng)

    def _draft_help(self, rng, c: C, previous: H | None, cap) -> H:
        today = self.today
        h = H()
        h.case, h.region = c, c.region
        if previous is None:
            start = c.opened + datetime.timedelta(days=rng.randint(7, 45))
        elif previous.end is not None and rng.random() > PARALLEL_SHARE:
            start = previous.end
        else:
            start = previous.start + datetime.timedelta(days=rng.randint(0, 120))
        start = min(start, today - datetime.timedelta(days=rng.randint(0, 20)))
        start = max(start, c.opened)
        h.start = start
        style = "nord" if c.region % 3 == 0 else "mitte"
        h.basis = _weighted(rng, BASIS_WEIGHTS[style])
        options = allowed_settings(h.basis)
        if len(options) == 1:
            h.setting = options[0]
        else:
            h.setting = _weighted(rng, SETTING_WEIGHTS.get(h.basis, dict.fromkeys(options, 1)))
        stationary = h.setting == Setting.STATIONARY
        if stationary and (rng.random() < 0.8 or not self.region_providers):
            h.provider = rng.choice(self.stationary)
        else:
            h.provider = rng.choice(self.region_providers[c.region])
        people = self.provider_staff[h.provider] + self.provider_leads[h.provider][:1]
        h.staff = rng.choice(people)
        h.recipient = None
        if rng.random() >= FAMILY_HELP_SHARE.get(h.basis, 0.0):
            low, high = RECIPIENT_AGES[h.basis]
            kids = [
                person
                for person, born in self.children[c.family]
                if low <= (start - born).days // 365.25 <= high
            ]
            h.recipient = rng.choice(kids) if kids else None
        months = rng.choice(COUNSELLING_MONTHS if h.basis == "28" else PLANNED_MONTHS[h.setting])
        h.planned_end = _add_months(start, months)
        planned_days = (h.planned_end - start).days
        factor = rng.lognormvariate(0, 0.35)
        end = start + datetime.timedelta(days=max(14, int(planned_days * factor)))
        if factor < 0.6:
            reason = _weighted(rng, ENDED_REASONS_EARLY)
        elif stationary and rng.random() < 0.3:
            reason = HelpEndReason.RETURN
        else:
            reason = HelpEndReason.AS_PLANNED
        if cap is not None and end > cap:
            end, reason = max(start, cap), HelpEndReason.AS_PLANNED
        h.status = ApprovalStatus.APPROVED
        if end >= today:
            end, reason = None, ""
            if (today - start).days < 28 and rng.random() < REQUESTED_SHARE:
                h.status = ApprovalStatus.REQUESTED
        if rng.random() < REJECTED_SHARE and cap is None:
            h.status, end, reason = ApprovalStatus.REJECTED, None, ""
        h.end, h.end_reason = end, reason
        h.hours, h.rate = None, None
        if stationary:
            low, high = DAILY_RATES.get(h.basis, DAILY_RATES["default"])
            h.rate = Decimal(rng.randint(low * 100, high * 100)) / 100
        elif h.setting != Setting.DAY_CARE:
            h.hours = Decimal(rng.choice(HOURS.get(h.basis, [8, 12])))
        h.consultation = None
        return h

    def _consultations(self, rng):
        """Draft the § 36 (2) consultations now; the returned function writes them."""
        load = self.load
        tid = load.next_id(TeamConsultation)
        rows, participants = [], []
        for h in self.helps:
            if h.status == ApprovalStatus.REJECTED:
                continue
            if h.planned_end > _add_months(h.start, self.decision_months):
                c = h.case
                h.consultation = tid + len(rows)
                held = h.start - datetime.timedelta(days=14)
                rows.append(
                    (
                        h.consultation,
                        c.id,
                        held,
                        "Ambulante Hilfe im Sozialraum; längere Hilfe mit festem Träger.",
                        "Hilfe wie beantragt für die geplante Dauer.",
                        "Der Bedarf ist auf Dauer angelegt; kürzere Hilfen reichten nicht.",
                        c.owner,
                        _stamp(held, 15 * 60),
                    )
                )
                colleagues = [u for u in self.caseworkers[c.team] if u != c.owner]
                people = {c.owner, c.lead, *(rng.sample(colleagues, 1) if colleagues else [])}
                participants += [(h.consultation, u) for u in sorted(people)]

        def write():
            load.copy(
                TeamConsultation,
                [
                    "id",
                    "case",
                    "held_on",
                    "options_considered",
                    "decision",
                    "reasons",
                    "created_by",
                    "created_at",
                ],
                rows,
                bulk=True,
            )
            through = TeamConsultation.participants.through
            pid = load.next_id(through)
            load.copy(
                through,
                ["id", "teamconsultation", "user"],
                ((pid + i, t, u) for i, (t, u) in enumerate(participants)),
                bulk=True,
            )

        return write

    def _approvals_and_rates(self, rng) -> None:
        load = self.load
        aid = load.next_id(HelpApproval)
        rows = []
        for h in self.helps:
            requested = h.start - datetime.timedelta(days=rng.randint(5, 20))
            decided = h.status != ApprovalStatus.REQUESTED
            rows.append(
                (
                    aid + len(rows),
                    h.id,
                    ApprovalKind.GRANT,
                    h.hours,
                    "Hilfebedarf festgestellt; Hilfe im Sozialraum geeignet und notwendig.",
                    h.case.owner,
                    _stamp(requested, 9 * 60),
                    h.status,
                    h.case.lead if decided else None,
                    _stamp(requested + datetime.timedelta(days=rng.randint(1, 4)), 14 * 60)
                    if decided
                    else None,
                    "Genehmigt."
                    if h.status == ApprovalStatus.APPROVED
                    else "Vorrang ambulanter Hilfen."
                    if decided
                    else "",
                )
            )
        load.copy(
            HelpApproval,
            [
                "id",
                "help",
                "kind",
                "proposed_hours_per_month",
                "reason",
                "requested_by",
                "requested_at",
                "decision",
                "decided_by",
                "decided_at",
                "comment",
            ],
            rows,
            bulk=True,
        )
        did = load.next_id(DailyRate)
        rates = []
        for h in self.helps:
            if h.rate is None:
                continue
            last = h.end or self.today
            new_years = [datetime.date(y, 1, 1) for y in range(h.start.year + 1, last.year + 1)]
            if new_years and rng.random() < RATE_INCREASE_SHARE:
                new_year = rng.choice(new_years)
                rates.append(
                    (did + len(rates), h.id, h.start, new_year - datetime.timedelta(days=1), h.rate)
                )
                raised = (h.rate * (1 + Decimal(rng.randint(30, 60)) / 1000)).quantize(
                    Decimal("0.01")
                )
                rates.append((did + len(rates), h.id, new_year, None, raised))
            else:
                rates.append((did + len(rates), h.id, h.start, None, h.rate))
        load.copy(
            DailyRate, ["id", "help", "valid_from", "valid_until", "amount"], rates, bulk=True
        )

    # --- help plans, goals and ratings -------------------------------------------------

    def _plans(self) -> None:
        rng, load, today = self.rng("plans"), self.load, self.today
        plan_id, goal_id, rating_id = (
            load.next_id(HelpPlan),
            load.next_id(HelpPlanGoal),
            load.next_id(GoalRating),
        )
        plans, goals, ratings = [], [], []
        for h in self.helps:
            if h.status != ApprovalStatus.APPROVED:
                continue
            last = min(h.end or today, today)
            meetings = [h.start]
            while len(meetings) < 8:
                following = _add_months(meetings[-1], self.review_months)
                if following >= last:
                    break
                meetings.append(following)
            if h.end is None and len(meetings) > 1 and rng.random() < 0.05:
                meetings.pop()  # a review that is overdue
            roots = []
            for version, meeting in enumerate(meetings, start=1):
                current = version == len(meetings)
                p = plan_id + len(plans)
                young = h.recipient is not None and rng.random() < 0.7
                plans.append(
                    (
                        p,
                        h.id,
                        version,
                        current,
                        meeting,
                        "Familie, Fachkraft des Trägers, ASD",
                        young,
                        rng.random() < 0.9,
                        rng.choice(STEPS),
                        _add_months(meeting, self.review_months),
                        h.case.owner,
                        _stamp(meeting, 16 * 60),
                    )
                )
                if version == 1:
                    texts = rng.sample(GOALS, rng.randint(2, 3))
                for position, text in enumerate(texts):
                    g = goal_id + len(goals)
                    if version == 1:
                        roots.append(g)
                    status = "in_progress" if version > 1 or not current else "open"
                    if current and h.end is not None:
                        status = (
                            "reached" if h.end_reason == HelpEndReason.AS_PLANNED else "not_reached"
                        )
                    goals.append(
                        (g, p, position, None if version == 1 else roots[position], text, status)
                    )
            for root in roots:
                start_rating = rng.choice([1, 2, 2, 3, 3, 4])
                if rng.random() < 0.7:
                    ratings.append(
                        (
                            rating_id + len(ratings),
                            root,
                            "start",
                            h.start,
                            start_rating,
                            self._own(rng, start_rating),
                        )
                    )
                if h.end is not None and rng.random() < 0.8:
                    gain = 2 if h.end_reason == HelpEndReason.AS_PLANNED else 0
                    end_rating = max(1, min(5, start_rating + gain + rng.choice([-1, 0, 0, 1])))
                    ratings.append(
                        (
                            rating_id + len(ratings),
                            root,
                            "end",
                            h.end,
                            end_rating,
                            self._own(rng, end_rating),
                        )
                    )
        load.copy(
            HelpPlan,
            [
                "id",
                "help",
                "version",
                "is_current",
                "meeting_date",
                "participants",
                "young_person_present",
                "parents_present",
                "agreed_steps",
                "next_review_due",
                "created_by",
                "created_at",
            ],
            plans,
            bulk=True,
        )
        load.copy(
            HelpPlanGoal,
            ["id", "plan", "position", "origin", "description", "status"],
            goals,
            bulk=True,
        )
        # One refresh of the help's goal outcome per rating would double the COPY's time;
        # one GROUP BY afterwards gives the same sums (inside the seed's transaction).
        table = GoalRating._meta.db_table
        load.cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {GOAL_OUTCOME_TRIGGER}')
        load.copy(
            GoalRating,
            ["id", "goal", "occasion", "rated_on", "professional", "own"],
            ratings,
            bulk=True,
        )
        rebuild_goal_outcomes()
        load.cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {GOAL_OUTCOME_TRIGGER}')

    @staticmethod
    def _own(rng, rating: int):
        return None if rng.random() < 0.2 else max(1, min(5, rating + rng.choice([-1, 0, 0, 1, 1])))

    # --- notes, § 8a assessments, resource map -------------------------------------------

    def _case_records(self) -> None:
        rng, load, today = self.rng("records"), self.load, self.today
        nid = load.next_id(CaseNote)
        notes = []
        for c in self.cases:
            last = c.closed or today
            span = max(0, (last - c.opened).days)
            for _ in range(rng.randint(1, 3)):
                kind, text = rng.choice(NOTE_TEXTS)
                day = c.opened + datetime.timedelta(days=rng.randint(0, span))
                notes.append(
                    (
                        nid + len(notes),
                        c.id,
                        c.owner,
                        kind,
                        text,
                        _stamp(day, rng.randint(480, 1020)),
                        False,
                    )
                )
        load.copy(
            CaseNote,
            ["id", "case", "author", "kind", "text", "created_at", "entrusted"],
            notes,
            bulk=True,
        )
        rid = load.next_id(RiskAssessment)
        risks = []
        for c in rng.sample(self.cases, round(len(self.cases) * RISK_SHARE)):
            last = c.closed or today
            received = c.opened + datetime.timedelta(
                days=rng.randint(0, max(0, (last - c.opened).days))
            )
            assessed = min(received + datetime.timedelta(days=rng.randint(0, 2)), last)
            closed = c.closed is not None or rng.random() < 0.6
            follow_up = None if closed else today + datetime.timedelta(days=rng.randint(-5, 30))
            risks.append(
                (
                    rid + len(risks),
                    c.id,
                    received,
                    rng.choice(REPORT_SOURCES),
                    "Meldung über Vernachlässigung; Kind wirkt oft hungrig und unversorgt.",
                    assessed,
                    c.owner,
                    c.lead,
                    rng.choice(RISK_LEVELS),
                    "Gemeinsame Einschätzung im Vier-Augen-Prinzip.",
                    "" if closed else "Schutzplan vereinbart.",
                    follow_up,
                    "closed" if closed else rng.choice(["assessed", "protection_plan"]),
                    c.owner,
                    _stamp(assessed, 15 * 60),
                )
            )
        load.copy(
            RiskAssessment,
            [
                "id",
                "case",
                "report_received_on",
                "report_source",
                "report_summary",
                "first_assessment_on",
                "first_assessor",
                "second_assessor",
                "risk_level",
                "assessment",
                "protection_plan",
                "next_follow_up_on",
                "status",
                "created_by",
                "updated_at",
            ],
            risks,
        )
        resid = load.next_id(Resource)
        resources, by_region = [], defaultdict(list)
        for r, _slug, _title, name in self.regions:
            for organisation, kind in RESOURCE_NAMES:
                by_region[r].append(resid + len(resources))
                resources.append(
                    (
                        resid + len(resources),
                        r,
                        f"{organisation} {name}",
                        kind,
                        "Siegen",
                        "Angebote für Familien im Sozialraum.",
                        _stamp(self.first_day),
                    )
                )
        load.copy(
            Resource,
            ["id", "region", "organisation", "kind", "city", "offer", "updated_at"],
            resources,
        )
        through = Help.resources.through
        tid = load.next_id(through)
        links = []
        for h in self.helps:
            if (
                h.status == ApprovalStatus.APPROVED
                and h.setting != Setting.STATIONARY
                and rng.random() < RESOURCE_SHARE
            ):
                for resource in sorted(rng.sample(by_region[h.region], rng.randint(1, 2))):
                    links.append((tid + len(links), h.id, resource))
        load.copy(through, ["id", "help", "resource"], links, bulk=True)

    # --- group offers ----------------------------------------------------------------------

    def _group_offers(self) -> None:
        rng, load, today = self.rng("groups"), self.load, self.today
        window = (today - self.first_day).days
        oid, sid = load.next_id(GroupOffer), load.next_id(GroupSession)
        offers, staff, sessions, registered = [], [], [], []
        for i in range(self.n["group_offers"]):
            r, *_ = rng.choice(self.regions)
            provider = rng.choice(self.region_providers[r])
            topic, audience = rng.choice(GROUP_TOPICS)
            starts = self.first_day + datetime.timedelta(days=rng.randint(0, window))
            ends = starts + datetime.timedelta(weeks=rng.randint(8, 30))
            ends = None if ends >= today else ends
            offers.append((oid + i, provider, r, topic, audience, starts, ends))
            people = self.provider_staff[provider] + self.provider_leads[provider]
            for user in sorted(rng.sample(people, min(len(people), rng.randint(1, 2)))):
                staff.append((oid + i, user))
            day, last = starts, min(ends or today, today)
            pool = self.persons_of_region[r]
            while day <= last:
                s = sid + len(sessions)
                sessions.append((s, oid + i, day, rng.choice([90, 90, 120]), rng.randint(3, 14)))
                if pool:
                    for person in sorted(set(rng.sample(pool, min(len(pool), rng.randint(0, 2))))):
                        registered.append((s, person))
                day += datetime.timedelta(weeks=1)
        load.copy(
            GroupOffer,
            ["id", "provider", "region", "topic", "target_group", "starts_on", "ends_on"],
            offers,
        )
        through = GroupOffer.staff.through
        first = load.next_id(through)
        load.copy(
            through,
            ["id", "groupoffer", "user"],
            ((first + k, *row) for k, row in enumerate(staff)),
        )
        load.copy(
            GroupSession,
            ["id", "offer", "date", "duration_minutes", "anonymous_participants"],
            sessions,
            bulk=True,
        )
        through = GroupSession.registered_participants.through
        first = load.next_id(through)
        load.copy(
            through,
            ["id", "groupsession", "person"],
            ((first + k, *row) for k, row in enumerate(registered)),
            bulk=True,
        )

    # --- hour entries ---------------------------------------------------------------------

    def _work_days(self) -> list[datetime.date]:
        holidays = set()
        for year in range(self.first_day.year, self.today.year + 1):
            holidays |= public_holidays(year)
        day, days = self.first_day, []
        while day <= self.today:
            if day.weekday() < 5 and day not in holidays:
                days.append(day)
            day += datetime.timedelta(days=1)
        return days

    def _hours(self) -> None:
        load = self.load
        days = self._work_days()
        workers = [
            (user, provider)
            for providers in (self.consortium, self.stationary)
            for provider in providers
            for user in self.provider_leads[provider] + self.provider_staff[provider]
        ]
        # Entries per present day as in the full data set, fewer where a small fraction
        # keeps more professionals than its share (every provider has two leads).
        present_days = len(days) * (1 - ABSENT_SHARE)
        full_mean = FULL["hour_entries"] / (FULL["provider_users"] * present_days)
        mean = min(full_mean, self.n["hour_entries"] / (len(workers) * present_days))
        helps_of = defaultdict(list)
        for h in self.helps:
            if h.status == ApprovalStatus.APPROVED:
                helps_of[h.staff].append((h.start, h.end or self.today, h.id))
        for items in helps_of.values():
            items.sort()
        approved_before = _add_months(self.today.replace(day=1), -1)
        lead_of = {
            user: (leads[1] if user == leads[0] else leads[0])
            for provider, leads in self.provider_leads.items()
            for user in leads + self.provider_staff[provider]
        }
        # Every month before the previous one is approved by the other lead (four eyes).
        rng = self.rng("approvals")
        months, month = [], self.first_day
        while month < approved_before:
            months.append(month)
            month = _add_months(month, 1)
        approval_id = load.next_id(MonthApproval)
        approvals, rows = {}, []
        for user, provider in workers:
            for month in months:
                approvals[(user, month)] = pk = approval_id + len(rows)
                decided = _add_months(month, 1) + datetime.timedelta(days=rng.randint(2, 9))
                rows.append(
                    (pk, provider, user, month, "approved", "", lead_of[user], _stamp(decided, 660))
                )
        load.copy(
            MonthApproval,
            ["id", "provider", "staff", "month", "state", "comment", "decided_by", "decided_at"],
            rows,
            bulk=True,
        )

        def approval_of(user, day):
            return approvals.get((user, day.replace(day=1)), "\\N")

        counter = [load.next_id(HourEntry)]
        table = HourEntry._meta.db_table
        # The rollup trigger would upsert once per entry (half again the COPY's time);
        # one GROUP BY over all entries afterwards gives the same totals. Disabled only
        # inside the seed's transaction, so a failed load rolls this back as well.
        # The same for the trigger that counts changed months (one deferred event per
        # entry): rebuild_hour_rollups counts every month once.
        for trigger in HOUR_ENTRY_TRIGGERS:
            load.cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER {trigger}')

        def lines():
            for user, provider in workers:
                yield from self._entries_of(
                    user, provider, days, mean, helps_of[user], approval_of, counter
                )

        load.copy(
            HourEntry,
            [
                "id",
                "staff",
                "provider",
                "date",
                "start_time",
                "end_time",
                "minutes",
                "kind",
                "activity",
                "help",
                "note",
                "recurring",
                "approval",
                "idempotency_key",
                "created_at",
            ],
            None,
            lines=lines(),
            bulk=True,
        )
        started = time.monotonic()
        rebuild_hour_rollups()
        for trigger in HOUR_ENTRY_TRIGGERS:
            load.cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER {trigger}')
        self.write(f"    hour rollups rebuilt in {time.monotonic() - started:.1f} s")

    def _entries_of(self, user, provider, days, mean, helps, approval_of, counter):
        rng = self.rng(f"hours-{user}")
        random_, choice, getrandbits = rng.random, rng.choice, rng.getrandbits
        whole, part = int(mean), mean - int(mean)
        pointer, active = 0, []
        prefix = f"\t{user}\t{provider}\t"
        for day in days:
            if random_() < ABSENT_SHARE:
                continue
            count = whole + (1 if random_() < part else 0)
            if count > 2:
                count += choice((-2, -1, 0, 0, 1, 2))
            if count <= 0:
                continue
            while pointer < len(helps) and helps[pointer][0] <= day:
                active.append(helps[pointer])
                pointer += 1
            if active:
                active = [h for h in active if h[1] >= day]
            iso = day.isoformat()
            approval = approval_of(user, day)
            created = f"{iso} 17:30:00+01"
            clock = choice(DAY_START)
            total = 0
            for _ in range(count):
                minutes = choice(ENTRY_MINUTES)
                if total + minutes > MAX_DAY_MINUTES or clock + minutes > LATEST_END:
                    break
                r = random_()
                if active and r < CASE_SHARE:
                    kind, help_id = "case_specific", choice(active)[2]
                    activity = choice(CASE_ACTIVITIES)
                elif random_() < CROSS_SHARE / (1 - CASE_SHARE):
                    kind, help_id, activity = "cross_case", "\\N", choice(CROSS_ACTIVITIES)
                else:
                    kind, help_id, activity = (
                        "case_unspecific",
                        "\\N",
                        choice(UNSPECIFIC_ACTIVITIES),
                    )
                note = choice(NOTES[activity])
                if random_() < UNTIMED_SHARE:
                    times = "\\N\t\\N"
                else:
                    times = f"{CLOCK[clock]}\t{CLOCK[clock + minutes]}"
                    clock += minutes + choice(GAPS)
                total += minutes
                pk = counter[0]
                counter[0] = pk + 1
                yield (
                    f"{pk}{prefix}{iso}\t{times}\t{minutes}\t{kind}\t{activity}\t{help_id}\t{note}"
                    f"\tf\t{approval}\t{getrandbits(128):032x}\t{created}\n"
                )

    # --- service contracts -----------------------------------------------------------------

    def _contracts(self) -> None:
        rng, load, today = self.rng("contracts"), self.load, self.today
        controller, head = self.office[Role.CONTROLLER], self.office[Role.DEPARTMENT_HEAD]
        years = list(range(self.first_day.year, today.year + 1))
        cid = load.next_id(ServiceContract)
        contracts = [
            (cid + i, r, year, f"Leistungsvertrag {title} {year}")
            for i, ((r, _slug, title, _name), year) in enumerate(
                (region, year) for region in self.regions for year in years
            )
        ]
        load.copy(ServiceContract, ["id", "region", "year", "title"], contracts)
        through = ServiceContract.providers.through
        first = load.next_id(through)
        links = [(c[0], p) for c in contracts for p in self.region_providers[c[1]]]
        load.copy(
            through,
            ["id", "servicecontract", "provider"],
            ((first + k, *row) for k, row in enumerate(links)),
        )
        sid = load.next_id(SubBudget)
        budgets = {}
        for c in contracts:
            for kind in (SubBudgetKind.FLEXIBLE, SubBudgetKind.STATIONARY):
                budgets[(c[0], kind)] = sid + len(budgets)
        load.copy(
            SubBudget,
            ["id", "contract", "kind"],
            [(pk, c, kind) for (c, kind), pk in budgets.items()],
        )
        regions_per_provider = defaultdict(int)
        for providers in self.region_providers.values():
            for p in providers:
                regions_per_provider[p] += 1
        lines, postings, reallocations = [], [], []
        line_id, posting_id, realloc_id = (
            load.next_id(PlanLine),
            load.next_id(Posting),
            load.next_id(Reallocation),
        )
        for contract, region, year, _title in contracts:
            staff = sum(
                (len(self.provider_staff[p]) + 2) / regions_per_provider[p]
                for p in self.region_providers[region]
            )
            factor = (1 + YEARLY_INCREASE) ** (year - today.year)
            plan = {
                PlanCategory.PERSONNEL: _round_thousand(staff * FLEXIBLE_PER_STAFF * factor),
                PlanCategory.RENT: _round_thousand(rng.randint(36, 90) * 1000),
                PlanCategory.OVERHEAD: _round_thousand(
                    staff * FLEXIBLE_PER_STAFF * factor * rng.uniform(0.08, 0.12)
                ),
            }
            flexible = budgets[(contract, SubBudgetKind.FLEXIBLE)]
            for category, amount in plan.items():
                lines.append((line_id + len(lines), flexible, category, amount))
                last_month = 12 if year < today.year else today.month - 1
                booked = Decimal("0.00")
                for month in range(1, last_month + 1):
                    share = 1.0 if category == PlanCategory.RENT else rng.uniform(0.96, 1.02)
                    value = min(
                        (amount / 12 * Decimal(str(share))).quantize(Decimal("0.01")),
                        amount - booked,
                    )
                    if value <= 0:
                        break
                    booked += value
                    month_end = _add_months(datetime.date(year, month, 1), 1) - datetime.timedelta(
                        days=1
                    )
                    postings.append(
                        (
                            posting_id + len(postings),
                            flexible,
                            month_end,
                            value,
                            "cost",
                            category,
                            f"{category.label} {month:02d}/{year}",
                            "",
                            controller,
                            _stamp(month_end + datetime.timedelta(days=rng.randint(3, 8)), 10 * 60),
                        )
                    )
            __, cost = stationary_cost(
                stationary_rates([region]), datetime.date(year, 1, 1), datetime.date(year, 12, 31)
            )
            moved = Decimal("0.00")
            decided = min(datetime.date(year, 9, 15), today - datetime.timedelta(days=1))
            if rng.random() < 0.25 and decided.year == year:
                moved = Decimal(rng.randint(2, 8) * 10_000)
                reallocations.append(
                    (
                        realloc_id + len(reallocations),
                        contract,
                        Direction.TO_FLEXIBLE,
                        moved,
                        "Rückführungen in den Sozialraum; ambulante Anschlusshilfen.",
                        ReallocationStatus.APPROVED,
                        "",
                        controller,
                        _stamp(decided - datetime.timedelta(days=10)),
                        head,
                        _stamp(decided, 11 * 60),
                        "Genehmigt.",
                    )
                )
                plan[PlanCategory.PERSONNEL] += moved
            low, high = float(cost) / 0.99 + float(moved), float(cost) / 0.88 + float(moved)
            stationary_plan = _round_thousand(rng.uniform(low, high)) if cost else Decimal(100_000)
            lines.append(
                (
                    line_id + len(lines),
                    budgets[(contract, SubBudgetKind.STATIONARY)],
                    PlanCategory.PLACEMENTS,
                    stationary_plan,
                )
            )
        load.copy(PlanLine, ["id", "sub_budget", "category", "amount"], lines)
        load.copy(
            Posting,
            [
                "id",
                "sub_budget",
                "booked_on",
                "amount",
                "kind",
                "category",
                "text",
                "override_reason",
                "created_by",
                "created_at",
            ],
            postings,
            bulk=True,
        )
        load.copy(
            Reallocation,
            [
                "id",
                "contract",
                "direction",
                "amount",
                "reason",
                "status",
                "override_reason",
                "proposed_by",
                "proposed_at",
                "decided_by",
                "decided_at",
                "decision_comment",
            ],
            reallocations,
        )


def _round_thousand(value) -> Decimal:
    return Decimal(max(1000, int(round(float(value), -3))))


def seed_city(*, fraction: float, write, today: datetime.date | None = None) -> dict[str, int]:
    """Load the city data set in one transaction, then ANALYZE; returns the row counts."""
    from django.core.management.base import CommandError  # noqa: PLC0415
    from django.db import transaction  # noqa: PLC0415
    from django.utils import timezone  # noqa: PLC0415

    if connection.vendor != "postgresql":
        raise CommandError(
            "--scale city needs PostgreSQL (it loads millions of rows with COPY); "
            f"this database is {connection.vendor}. Set DATABASE_URL to a PostgreSQL database."
        )
    if not 0 < fraction <= 1:
        raise CommandError("--fraction must be greater than 0 and at most 1.")
    if Region.objects.filter(slug=MARKER_SLUG).exists():
        write(f"City data already present (region '{MARKER_SLUG}' exists); nothing added.")
        return {}
    seed = CitySeed(fraction=fraction, today=today or timezone.localdate(), write=write)
    write(f"Seeding the city data set (fraction {fraction:g}):")
    started = time.monotonic()
    with transaction.atomic():
        timings = seed.build()
    loaded = time.monotonic() - started
    analyze_started = time.monotonic()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    analyzed = time.monotonic() - analyze_started
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    rows = sum(count for _, count, _ in timings)
    write(
        f"Done: {rows:,} rows in {loaded:.1f} s, ANALYZE {analyzed:.1f} s, "
        f"database size {size}. Logins (password '{CITY_PASSWORD}'): city-leitung, "
        f"city-controlling, {seed.regions[0][1]}-lead, asd-001, p{seed.consortium[0]}-staff01."
    )
    return {table: count for table, count, _ in timings}
