"""`python manage.py seed_demo`: a deterministic demo scenario of the Siegen model.

Two social spaces, the three consortium providers plus two outside stationary
providers, two ASD teams, one demo login per role (password `demo`) and about
two years of case work: families, cases, helps of every legal basis, approvals,
help plans, journal entries and § 8a assessments. Dates are relative to today,
so the scenario always looks current. The rows are written with bulk_create and
without audit entries: seeding is not a user action.
"""

import datetime
import random
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from cases.models import (
    AMBULANT_SETTINGS,
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseClosingReason,
    CaseNote,
    CaseStatus,
    Family,
    GoalStatus,
    Help,
    HelpApproval,
    HelpEndReason,
    HelpPlan,
    HelpPlanGoal,
    LegalBasis,
    Person,
    PersonRole,
    Region,
    RiskAssessment,
    RiskAssessmentStatus,
    RiskLevel,
    Setting,
    Team,
    allowed_settings,
)
from cases.services import next_review_date
from core.models import Role
from providers.models import Provider, ProviderKind

SEED = 2026
MARKER_SLUG = "modellregion"
APPROVED, REQUESTED = ApprovalStatus.APPROVED, ApprovalStatus.REQUESTED
DEMO_PASSWORD = "demo"
FAMILIES_PER_TEAM = {"nord": 70, "mitte": 50}
ASD_OPEN_CASES = 15

# --- Organisation ------------------------------------------------------------------

REGIONS = [
    (
        "modellregion",
        "Modellregion Siegen-Nord",
        8500,
        "Erste Modellregion des KiJuFaZ: Geisweid, Weidenau und Birlenbach, hohe "
        "soziale Belastung, viele Fälle.",
    ),
    (
        "siegen-mitte",
        "Sozialraum Siegen-Mitte",
        12000,
        "Geplante zweite Region: weniger klar abgegrenzt, mit dem Stadtzentrum.",
    ),
]
PROVIDERS = [
    ("friedenshort", "Evangelische Jugendhilfe Friedenshort", "Friedenshort", "consortium"),
    ("skf", "Sozialdienst katholischer Frauen Siegen", "SkF", "consortium"),
    ("diakonie", "Diakonisches Werk im Ev. Kirchenkreis Siegen", "Diakonie", "consortium"),
    ("sonnenhof", "Kinderheim Sonnenhof Netphen", "Sonnenhof", "stationary"),
    ("giersberg", "Jugendwohngruppe Haus am Giersberg", "Haus am Giersberg", "stationary"),
]
TEAMS = [("nord", "ASD-Team Nord", "modellregion"), ("mitte", "ASD-Team Mitte", "siegen-mitte")]
TEAM_REGIONS = {key: region for key, _, region in TEAMS}


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    role: str
    team: str | None = None
    provider: str | None = None


DEMO_USERS = [
    DemoUser("asd", "Anna", "Schmidt", Role.ASD, team="nord"),
    DemoUser("jweber", "Julia", "Weber", Role.ASD, team="nord"),
    DemoUser("mkoch", "Martin", "Koch", Role.ASD, team="nord"),
    DemoUser("sdemir", "Selin", "Demir", Role.ASD, team="nord"),
    DemoUser("asdlead", "Thomas", "Becker", Role.ASD_LEAD, team="nord"),
    DemoUser("asd2", "Markus", "Hoffmann", Role.ASD, team="mitte"),
    DemoUser("kschaefer", "Katharina", "Schäfer", Role.ASD, team="mitte"),
    DemoUser("tbraun", "Tobias", "Braun", Role.ASD, team="mitte"),
    DemoUser("lwagner", "Laura", "Wagner", Role.ASD, team="mitte"),
    DemoUser("asdlead2", "Sabine", "Krämer", Role.ASD_LEAD, team="mitte"),
    DemoUser("fachkraft", "Lena", "Müller", Role.PROVIDER_STAFF, provider="friedenshort"),
    DemoUser("jbauer", "Jonas", "Bauer", Role.PROVIDER_STAFF, provider="friedenshort"),
    DemoUser("pneumann", "Petra", "Neumann", Role.PROVIDER_LEAD, provider="friedenshort"),
    DemoUser("traegerleitung", "Claudia", "Richter", Role.PROVIDER_LEAD, provider="skf"),
    DemoUser("mlange", "Miriam", "Lange", Role.PROVIDER_STAFF, provider="skf"),
    DemoUser("dyilmaz", "Derya", "Yılmaz", Role.PROVIDER_STAFF, provider="skf"),
    DemoUser("hwolf", "Heike", "Wolf", Role.PROVIDER_LEAD, provider="diakonie"),
    DemoUser("sjung", "Stefan", "Jung", Role.PROVIDER_STAFF, provider="diakonie"),
    DemoUser("akrause", "Alexandra", "Krause", Role.PROVIDER_STAFF, provider="diakonie"),
    DemoUser("bzimmermann", "Bernd", "Zimmermann", Role.PROVIDER_LEAD, provider="sonnenhof"),
    DemoUser("nweiss", "Nina", "Weiß", Role.PROVIDER_STAFF, provider="sonnenhof"),
    DemoUser("fhartmann", "Frank", "Hartmann", Role.PROVIDER_LEAD, provider="giersberg"),
    DemoUser("ejaeger", "Eva", "Jäger", Role.PROVIDER_STAFF, provider="giersberg"),
    DemoUser("leitung", "Ulrike", "Dreisbach", Role.DEPARTMENT_HEAD),
    DemoUser("controlling", "Peter", "Irle", Role.CONTROLLER),
    DemoUser("datenschutz", "Monika", "Stötzel", Role.DATA_PROTECTION),
    DemoUser("admin", "Kai", "Menn", Role.ADMIN),
]
PERSONAS = [
    "asd",
    "asd2",
    "asdlead",
    "asdlead2",
    "fachkraft",
    "traegerleitung",
    "leitung",
    "controlling",
    "datenschutz",
    "admin",
]

# --- Families ----------------------------------------------------------------------

STREETS = {
    "nord": [
        ("Rijnsburger Straße", "57078"),
        ("Birlenbacher Straße", "57078"),
        ("Sohlbacher Straße", "57078"),
        ("Hagener Straße", "57078"),
        ("Rathausstraße", "57078"),
        ("Buchener Weg", "57078"),
        ("Dillnhütter Straße", "57078"),
        ("Weidenauer Straße", "57076"),
        ("Bismarckstraße", "57076"),
        ("Poststraße", "57076"),
        ("Schneppenkauten", "57076"),
        ("Giersbergstraße", "57076"),
        ("Tiergartenstraße", "57076"),
    ],
    "mitte": [
        ("Kölner Straße", "57072"),
        ("Marburger Straße", "57072"),
        ("Koblenzer Straße", "57072"),
        ("Sandstraße", "57072"),
        ("Löhrstraße", "57072"),
        ("Oranienstraße", "57072"),
        ("Wellersbergstraße", "57072"),
        ("Hermelsbacher Weg", "57072"),
        ("Frankfurter Straße", "57074"),
        ("Leimbachstraße", "57074"),
        ("Rosterstraße", "57074"),
        ("Am Häusling", "57074"),
        ("Eiserfelder Straße", "57080"),
    ],
}
CULTURE_WEIGHTS = {"de": 66, "tr": 10, "ar": 8, "pl": 6, "ru": 6, "ks": 4}
SURNAMES = {
    "de": [
        "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
        "Schulz", "Hoffmann", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder",
        "Neumann", "Schwarz", "Braun", "Krüger", "Hartmann", "Lange", "Werner", "Krause",
        "Lehmann", "Schäfer", "Jung", "Irle", "Dreisbach", "Stötzel", "Dornseifer",
        "Büdenbender", "Achenbach", "Weiershäuser", "Gräbener", "Womelsdorf", "Menn", "Heinz",
        "Kolb", "Moll", "Bender", "Dielmann", "Schmick", "Siebel", "Reuter", "Fuchs", "Hees",
    ],
    "tr": ["Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Öztürk", "Aydın", "Arslan", "Doğan"],
    "ar": ["Al-Hassan", "Haddad", "Khalil", "Ibrahim", "Mansour", "Othman"],
    "pl": ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kamiński", "Lewandowski"],
    "ru": ["Wiebe", "Penner", "Friesen", "Dyck", "Neufeld", "Janzen"],
    "ks": ["Krasniqi", "Berisha", "Gashi", "Hoxha", "Morina"],
}  # fmt: skip
FIRST_NAMES = {
    "de": {
        "parent_f": ["Sandra", "Nicole", "Stefanie", "Melanie", "Katrin", "Julia", "Jennifer",
                     "Sarah", "Christina", "Jessica", "Tanja", "Daniela", "Vanessa", "Janina"],
        "parent_m": ["Michael", "Thomas", "Andreas", "Stefan", "Daniel", "Christian", "Sebastian",
                     "Markus", "Dennis", "Marco", "Sven", "Kevin", "Patrick", "Jan"],
        "child_f": ["Mia", "Emma", "Hannah", "Lea", "Lina", "Sophie", "Marie", "Emilia", "Leonie",
                    "Lara", "Lena", "Amelie", "Johanna", "Clara", "Nele"],
        "child_m": ["Ben", "Leon", "Finn", "Noah", "Paul", "Luca", "Jonas", "Elias", "Felix",
                    "Luis", "Maximilian", "Tim", "Niklas", "Jannik", "Henry"],
    },
    "tr": {
        "parent_f": ["Ayşe", "Fatma", "Elif", "Zeynep", "Emine", "Derya"],
        "parent_m": ["Mehmet", "Mustafa", "Emre", "Yusuf", "Murat", "Hakan"],
        "child_f": ["Elif", "Defne", "Ela", "Azra", "Zeynep", "Eslem"],
        "child_m": ["Yusuf", "Emir", "Ali", "Mert", "Kerem", "Eymen"],
    },
    "ar": {
        "parent_f": ["Fatima", "Amal", "Rania", "Hiba", "Nour"],
        "parent_m": ["Ahmad", "Khaled", "Omar", "Mohammad", "Samir"],
        "child_f": ["Lana", "Sara", "Maryam", "Joud", "Rahaf"],
        "child_m": ["Adam", "Karim", "Hamza", "Yousef", "Elias"],
    },
    "pl": {
        "parent_f": ["Anna", "Katarzyna", "Magdalena", "Agnieszka"],
        "parent_m": ["Piotr", "Tomasz", "Krzysztof", "Marek"],
        "child_f": ["Zofia", "Julia", "Maja", "Natalia"],
        "child_m": ["Jakub", "Szymon", "Kacper", "Filip"],
    },
    "ru": {
        "parent_f": ["Olga", "Natalia", "Irina", "Swetlana", "Helena"],
        "parent_m": ["Viktor", "Alexander", "Eduard", "Waldemar", "Andreas"],
        "child_f": ["Alina", "Anastasia", "Emilia", "Viktoria"],
        "child_m": ["Daniel", "Artur", "Nikita", "David", "Maxim"],
    },
    "ks": {
        "parent_f": ["Arta", "Blerina", "Vjosa", "Drita"],
        "parent_m": ["Arben", "Driton", "Besnik", "Fatmir"],
        "child_f": ["Elira", "Lejla", "Ajla", "Rina"],
        "child_m": ["Arian", "Leart", "Dion", "Amar"],
    },
}  # fmt: skip

# --- Helps -------------------------------------------------------------------------

# The model region works mostly with flexible help; Siegen-Mitte still in the classic forms.
BASIS_WEIGHTS = {
    "nord": {"27_2": 38, "28": 5, "29": 4, "30": 8, "31": 7, "32": 5, "33": 4, "34": 7,
             "35": 4, "35a": 6, "41": 6},
    "mitte": {"27_2": 10, "28": 6, "29": 4, "30": 12, "31": 20, "32": 7, "33": 5, "34": 12,
              "35": 5, "35a": 6, "41": 6},
}  # fmt: skip
SETTING_WEIGHTS = {
    LegalBasis.INTENSIVE: {Setting.AMBULANT: 7, Setting.STATIONARY: 3},
    LegalBasis.INTEGRATION: {
        Setting.AMBULANT: 5,
        Setting.FLEXIBLE: 2,
        Setting.DAY_CARE: 2,
        Setting.STATIONARY: 2,
    },
    LegalBasis.YOUNG_ADULTS: {Setting.AMBULANT: 4, Setting.FLEXIBLE: 3, Setting.STATIONARY: 3},
}
# Ages (at the start of the help) of the young person a help can be for.
RECIPIENT_AGES = {
    "27_2": (0, 17),
    "28": (0, 17),
    "29": (8, 17),
    "30": (10, 17),
    "31": (0, 15),
    "32": (6, 13),
    "33": (0, 13),
    "34": (6, 17),
    "35": (14, 17),
    "35a": (3, 17),
    "41": (18, 20),
}
# Family-wide helps: the recipient stays empty (always for SPFH, often for flexible help).
FAMILY_HELP_SHARE = {"31": 1.0, "27_2": 0.4, "28": 0.3}
HOURS = {
    "27_2": [8, 10, 12, 16, 20, 24, 30],
    "28": [2, 3, 4, 6],
    "29": [6, 8, 10],
    "30": [8, 10, 12, 16],
    "31": [16, 20, 24, 30, 40],
    "35": [20, 30, 40],
    "35a": [4, 8, 12, 16],
    "41": [6, 8, 10, 12],
}
CONSORTIUM_WEIGHTS = {"friedenshort": 35, "skf": 35, "diakonie": 30}
STATIONARY_WEIGHTS = {"sonnenhof": 40, "giersberg": 40, "friedenshort": 20}
STAFF_WEIGHTS = {"fachkraft": 3}  # the demo professional carries a full caseload
MIN_ACTIVE = {("friedenshort", "nord"): 6, ("friedenshort", "mitte"): 4, ("skf", "nord"): 3}
CLOSED_END_REASONS = {
    HelpEndReason.AS_PLANNED: 60,
    HelpEndReason.BROKEN_OFF_FAMILY: 15,
    HelpEndReason.BROKEN_OFF_PROVIDER: 8,
    HelpEndReason.RETURN: 12,
}
SWITCH_END_REASONS = {
    HelpEndReason.CHANGED: 50,
    HelpEndReason.BROKEN_OFF_FAMILY: 30,
    HelpEndReason.BROKEN_OFF_PROVIDER: 20,
}
CLOSING_REASONS = {
    CaseClosingReason.NO_NEED: 55,
    CaseClosingReason.MOVED: 20,
    CaseClosingReason.TRANSFERRED: 15,
    CaseClosingReason.OTHER: 10,
}

# --- German texts ------------------------------------------------------------------

REQUEST_REASONS = {
    "ambulant": [
        "Hilfebedarf im Erstgespräch festgestellt; die Familie wünscht Unterstützung im Alltag.",
        "Nach kollegialer Beratung: Hilfe im Sozialraum geeignet und notwendig.",
        "Schule und Kita berichten von zunehmenden Schwierigkeiten; ambulante Hilfe reicht aus.",
    ],
    "stationary": [
        "Ambulante Hilfen ausgeschöpft; Unterbringung außerhalb der Familie erforderlich.",
        "Nach der Inobhutnahme ist eine Rückkehr in den Haushalt derzeit nicht möglich.",
    ],
}
APPROVAL_COMMENTS = [
    "Genehmigt.",
    "Genehmigt, Überprüfung im nächsten Hilfeplangespräch.",
    "Einverstanden; bitte Beteiligung des Jugendlichen dokumentieren.",
]
REJECTION_COMMENT = "Vorrang ambulanter Hilfen: bitte zunächst eine flexible Hilfe im Sozialraum."
HOURS_CHANGE_REASON = (
    "Mehrbedarf nach Trennung der Eltern; Fachkraft bittet um zusätzliche Stunden."
)
FAMILY_GOALS = [
    "{parent} sorgt für eine verlässliche Tagesstruktur mit festen Essens- und Schlafenszeiten.",
    "{parent} setzt klare, gewaltfreie Regeln und bleibt dabei konsequent.",
    "{parent} nimmt Termine bei Ärzten, Schule und Ämtern selbstständig wahr.",
    "Die Wohnung ist dauerhaft in einem kindgerechten Zustand.",
    "Die Familie hat einen Überblick über ihre Finanzen und macht keine neuen Schulden.",
    "{parent} knüpft Kontakte im Stadtteil (Familienzentrum, Elterncafé).",
    "Konflikte in der Familie werden ohne Gewalt und lautstarken Streit gelöst.",
    "{parent} nutzt Entlastungsangebote im Sozialraum, z. B. die Krabbelgruppe.",
]
CHILD_GOALS = [
    "{name} besucht regelmäßig und pünktlich die Schule.",
    "{name} erledigt die Hausaufgaben an mindestens vier Tagen pro Woche.",
    "{name} findet Anschluss an einen Sportverein oder eine Gruppe im Stadtteil.",
    "{name} kann Wut in Worte fassen, ohne andere Kinder zu schlagen.",
    "{name} besucht regelmäßig die Kita und wird pünktlich abgeholt.",
    "{name} erhält die empfohlene Ergotherapie und Sprachförderung.",
]
YOUTH_GOALS = [
    "{name} hält die vereinbarten Ausgehzeiten ein.",
    "{name} erreicht den Hauptschulabschluss.",
    "{name} bewirbt sich um einen Praktikums- oder Ausbildungsplatz.",
    "{name} reduziert den Cannabiskonsum und nimmt Kontakt zur Suchtberatung auf.",
    "{name} spricht Konflikte mit den Eltern an, ohne von zu Hause wegzulaufen.",
    "{name} hat weniger als fünf unentschuldigte Fehltage im Halbjahr.",
]
YOUNG_ADULT_GOALS = [
    "{name} findet eine eigene Wohnung und verwaltet das Geld selbstständig.",
    "{name} beginnt eine Ausbildung oder eine Maßnahme des Jobcenters.",
    "{name} stellt Anträge (Bürgergeld, Wohngeld, BAföG) selbstständig.",
    "{name} hält Termine bei Ärzten und Behörden ohne Erinnerung ein.",
]
STATIONARY_GOALS = [
    "{name} lebt sich in der Gruppe ein und hält die vereinbarten Regeln ein.",
    "Die Besuchskontakte von {name} zur Familie finden alle 14 Tage statt.",
    "Die Rückkehr von {name} in die Familie wird schrittweise vorbereitet.",
    "{name} besucht von der Einrichtung aus regelmäßig die Schule.",
]
AGREED_STEPS = [
    "Wöchentlicher Hausbesuch durch die Fachkraft von {provider}.",
    "{parent} meldet sich bis Monatsende im Familienzentrum an.",
    "Gespräch mit der Klassenlehrerin von {name} vor den nächsten Ferien.",
    "Erstgespräch in der Erziehungsberatungsstelle innerhalb von vier Wochen.",
    "Haushaltsplan gemeinsam mit der Schuldnerberatung aufstellen.",
    "{parent} führt ein Wochenprotokoll zu den vereinbarten Regeln.",
    "Begleitung von {name} zur nächsten Vorsorgeuntersuchung.",
    "Kontakt zu einem Sportverein im Stadtteil herstellen.",
    "Fachkraft und ASD tauschen sich monatlich telefonisch aus.",
]
STATIONARY_STEPS = [
    "Besuchskontakte von {parent} in der Einrichtung alle 14 Tage.",
    "Heimfahrten an jedem zweiten Wochenende, Rückmeldung der Einrichtung an den ASD.",
    "Die Einrichtung meldet besondere Vorkommnisse am selben Tag.",
]
FIRST_NOTES = [
    ("phone", "Erstkontakt: {parent} meldet sich telefonisch und bittet um Unterstützung."),
    ("note", "Meldung der Schule: {name} fehlt häufig, die Eltern sind schwer erreichbar."),
    ("meeting", "Erstgespräch im Stadtteilbüro mit {parent}; der Hilfebedarf wird geklärt."),
    ("note", "Hinweis der Kita auf auffälliges Verhalten von {name}; Kontakt zur Familie."),
]
FOLLOW_UP_NOTES = [
    ("home_visit", "Hausbesuch: Wohnung aufgeräumt, Kinder versorgt. {parent} berichtet von "
                   "Schlafproblemen bei {name}."),
    ("home_visit", "Hausbesuch gemeinsam mit der Fachkraft; Absprachen aus dem Hilfeplan "
                   "besprochen."),
    ("phone", "Telefonat mit der Fachkraft: Hilfe läuft stabil, Familie gut erreichbar."),
    ("phone", "Rückruf der Schule: {name} fehlte diese Woche zwei Tage unentschuldigt."),
    ("meeting", "Kollegiale Fallberatung im Team; Empfehlung: Hilfe im Sozialraum fortsetzen."),
    ("meeting", "Kooperationsgespräch mit Schule, Familie und Träger."),
    ("note", "Unterlagen vollständig; die Schweigepflichtentbindung liegt vor."),
    ("note", "{parent} sagt den Termin kurzfristig ab; neuer Termin in zwei Wochen."),
]  # fmt: skip
CLOSING_NOTES = {
    CaseClosingReason.NO_NEED: "Ziele erreicht, die Familie kommt ohne Hilfe zurecht.",
    CaseClosingReason.MOVED: "Die Familie ist nach {place} verzogen; Jugendamt dort informiert.",
    CaseClosingReason.TRANSFERRED: "Zuständigkeit nach § 86 SGB VIII an das Jugendamt {place} "
    "abgegeben.",
    CaseClosingReason.OTHER: "Die Familie lehnt weitere Unterstützung ab; keine Anhaltspunkte "
    "für eine Gefährdung.",
}
PLACES = ["Kreuztal", "Olpe", "Netphen", "Dortmund", "Köln", "Gießen"]
REPORT_SOURCES = [
    "Kita Regenbogen, Geisweid",
    "Grundschule Birlenbach",
    "Polizeiwache Siegen",
    "Kinderarztpraxis in Weidenau",
    "Nachbarin (anonym)",
    "Schulsozialarbeit der Gesamtschule",
    "Familienhebamme",
]
REPORT_SUMMARIES = [
    "{name} kam mehrfach ohne Frühstück und nicht wettergerecht gekleidet in die Einrichtung.",
    "Blaue Flecken am Oberarm von {name}; {name} wirkt verängstigt und will nicht nach Hause.",
    "Polizeieinsatz wegen häuslicher Gewalt; die Kinder waren in der Wohnung.",
    "{name} übernachtet seit Tagen bei Bekannten und will nicht nach Hause zurück.",
    "Hinweis auf Alkoholkonsum von {parent} während der Betreuung der Kinder.",
    "Wohnung stark vermüllt; Nachbarn sorgen sich um die Versorgung der Kinder.",
]
ASSESSMENTS = {
    RiskLevel.NONE: "Hausbesuch zu zweit: Grundversorgung gesichert, keine Anhaltspunkte für "
    "eine Gefährdung. {parent} kooperativ.",
    RiskLevel.UNCLEAR: "Hausbesuch zu zweit: Versorgung knapp ausreichend; Hilfebedarf, aber "
    "keine akute Gefährdung.",
    RiskLevel.LATENT: "Gespräch mit {parent} und {name}: wiederkehrende Überforderung; ohne "
    "Unterstützung ist eine Gefährdung zu erwarten.",
    RiskLevel.ACUTE: "Akute Gefährdung festgestellt; {name} vorübergehend bei den Großeltern "
    "(mit Zustimmung der Sorgeberechtigten).",
}
PROTECTION_PLANS = [
    "Täglicher Kita-Besuch, wöchentlicher Hausbesuch der Fachkraft, Meldung der Kita bei "
    "Fehlen am selben Tag.",
    "{parent} nimmt den Termin bei der Suchtberatung wahr; unangekündigte Hausbesuche des ASD.",
    "Vorübergehende Trennung der Eltern; Beratung bei der Fachstelle gegen häusliche Gewalt.",
]


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


# --- Organisation and users ------------------------------------------------------------


@dataclass
class Organisation:
    regions: dict[str, Region]
    providers: dict[str, Provider]
    teams: dict[str, Team]


def ensure_organisation() -> Organisation:
    regions = {
        slug: Region.objects.get_or_create(
            slug=slug, defaults={"name": name, "inhabitants": people, "description": text}
        )[0]
        for slug, name, people, text in REGIONS
    }
    providers = {
        key: Provider.objects.get_or_create(
            name=name, defaults={"short_name": short, "kind": ProviderKind(kind)}
        )[0]
        for key, name, short, kind in PROVIDERS
    }
    teams = {
        key: Team.objects.get_or_create(name=name, defaults={"region": regions[region]})[0]
        for key, name, region in TEAMS
    }
    return Organisation(regions, providers, teams)


def _wanted_user_fields(spec: DemoUser, org: Organisation) -> dict:
    return {
        "role": spec.role,
        "team_id": org.teams[spec.team].pk if spec.team else None,
        "provider_id": org.providers[spec.provider].pk if spec.provider else None,
        "is_staff": spec.role == Role.ADMIN,
        "is_superuser": spec.role == Role.ADMIN,
        "is_active": True,
    }


def ensure_users(org: Organisation) -> tuple[dict, list[str]]:
    """Create the demo users or repair them (role, team, provider, password `demo`).

    Hashing is slow by design, so one hash serves every new user and each
    distinct stored hash is checked once.
    """
    User = get_user_model()
    existing = {
        user.username: user
        for user in User.objects.filter(username__in=[spec.username for spec in DEMO_USERS])
    }
    hash_ok: dict[str, bool] = {}
    new_hash = None
    created, repaired = [], []
    for spec in DEMO_USERS:
        wanted = _wanted_user_fields(spec, org)
        user = existing.get(spec.username)
        if new_hash is None and (user is None or not _is_demo_hash(user.password, hash_ok)):
            new_hash = make_password(DEMO_PASSWORD)
        if user is None:
            created.append(
                User(
                    username=spec.username,
                    first_name=spec.first_name,
                    last_name=spec.last_name,
                    email=f"{spec.username}@kijufaz.example",
                    password=new_hash,
                    **wanted,
                )
            )
            continue
        changed = [name for name, value in wanted.items() if getattr(user, name) != value]
        if not _is_demo_hash(user.password, hash_ok):
            user.password = new_hash
            changed.append("password")
        if changed:
            for name, value in wanted.items():
                setattr(user, name, value)
            user.save(update_fields=changed)
            repaired.append(spec.username)
    User.objects.bulk_create(created)
    users = {user.username: user for user in [*existing.values(), *created]}
    return users, repaired


def _is_demo_hash(encoded: str, cache: dict[str, bool]) -> bool:
    if encoded not in cache:
        cache[encoded] = check_password(DEMO_PASSWORD, encoded)
    return cache[encoded]


# --- The scenario ------------------------------------------------------------------


@dataclass(eq=False)
class FamilyDraft:
    family: Family
    team: str
    members: list[Person]

    @property
    def young(self) -> list[Person]:
        return [p for p in self.members if p.role != PersonRole.PARENT]

    @property
    def parent(self) -> Person:
        parents = [p for p in self.members if p.role == PersonRole.PARENT]
        return (parents or self.members)[0]


@dataclass(eq=False)
class CaseDraft:
    fam: FamilyDraft
    case: Case
    helps: list["HelpDraft"] = field(default_factory=list)

    @property
    def team(self) -> str:
        return self.fam.team


@dataclass(eq=False)
class HelpDraft:
    cd: CaseDraft
    help: Help
    requested_on: datetime.date
    review: str = "fine"

    @property
    def is_running(self) -> bool:
        return self.help.status == ApprovalStatus.APPROVED and self.help.end is None


def _title(person: Person) -> str:
    return f"{'Herr' if person.gender == 'm' else 'Frau'} {person.last_name}"


class DemoScenario:
    """Builds the case data in memory, then writes it with one bulk_create per model."""

    def __init__(self, *, org: Organisation, users: dict, today: datetime.date):
        self.rng = random.Random(SEED)  # noqa: S311  (demo data, not security)
        self.org = org
        self.users = users
        self.today = today
        self.now = timezone.now()
        self.interval = relativedelta(months=settings.KIJUFAZ_REVIEW_INTERVAL_MONTHS)
        self.seen_bases: set[str] = set()
        self.seen_reasons: set[str] = set()
        self.stamps: dict[type, list[tuple[object, datetime.datetime]]] = {}
        self.workers = {key: self._members(team=key, role=Role.ASD) for key, _, _ in TEAMS}
        self.leads = {key: self._members(team=key, role=Role.ASD_LEAD)[0] for key, _, _ in TEAMS}
        self.staff = {
            key: self._members(provider=key, role=Role.PROVIDER_STAFF) for key, *_ in PROVIDERS
        }

    def _members(self, *, role, team=None, provider=None) -> list:
        return [
            self.users[spec.username]
            for spec in DEMO_USERS
            if spec.role == role and spec.team == team and spec.provider == provider
        ]

    # random helpers

    def _pick(self, weights: dict):
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _ago(self, low: int, high: int) -> datetime.date:
        return self.today - _days(self.rng.randint(low, high))

    def _between(self, start: datetime.date, end: datetime.date) -> datetime.date:
        return start + _days(self.rng.randint(0, max(0, (end - start).days)))

    def _at(self, day: datetime.date) -> datetime.datetime:
        time = datetime.time(self.rng.randint(8, 16), self.rng.choice([0, 15, 30, 45]))
        return min(timezone.make_aware(datetime.datetime.combine(day, time)), self.now)

    def _stamp(self, obj, day: datetime.date) -> None:
        self.stamps.setdefault(type(obj), []).append((obj, self._at(day)))

    # build

    def build(self) -> dict[str, int]:
        families = self._draft_families()
        cases = self._draft_cases(families)
        for cd in cases:
            if cd.case.is_open:
                self._draft_open_case_helps(cd)
            else:
                self._draft_closed_case_helps(cd)
        helps = [hd for cd in cases for hd in cd.helps]
        running = [hd for hd in helps if hd.is_running]
        self._ensure_provider_share(running)
        self._mark_ending_soon(running)
        self._mark_reviews(running)
        return self._save(families, cases, helps)

    # families

    def _draft_families(self) -> list[FamilyDraft]:
        drafts = []
        for team, count in FAMILIES_PER_TEAM.items():
            for _ in range(count):
                culture = self._pick(CULTURE_WEIGHTS)
                surname = self.rng.choice(SURNAMES[culture])
                street, postal_code = self.rng.choice(STREETS[team])
                family = Family(
                    name=surname,
                    street=f"{street} {self.rng.randint(1, 140)}",
                    postal_code=postal_code,
                    city="Siegen",
                    region=self.org.regions[TEAM_REGIONS[team]],
                    phone=self._phone(),
                )
                members = self._draft_household(family, FIRST_NAMES[culture])
                drafts.append(FamilyDraft(family, team, members))
        return drafts

    def _phone(self) -> str:
        if self.rng.random() < 0.25:
            return ""
        if self.rng.random() < 0.6:
            prefix = self.rng.choice(["0151", "0160", "0176", "0157"])
            return f"{prefix} {self.rng.randint(1000000, 99999999)}"
        return f"0271 {self.rng.randint(300000, 899999)}"

    def _draft_household(self, family: Family, names: dict) -> list[Person]:
        draw = self.rng.random()
        if draw < 0.07:  # a young adult with a household of their own
            return [self._person(family, names, age=self.rng.randint(18, 20))]
        mother_age = self.rng.randint(24, 49)
        single = draw < 0.6
        if single and self.rng.random() < 0.12:
            members = [self._person(family, names, age=mother_age + 2, gender="m", parent=True)]
        else:
            members = [self._person(family, names, age=mother_age, gender="f", parent=True)]
        if not single:
            father_age = mother_age + self.rng.randint(-2, 6)
            members.append(self._person(family, names, age=father_age, gender="m", parent=True))
        children = self.rng.choices([1, 2, 3], weights=[60, 32, 8] if single else [40, 40, 20])[0]
        oldest = min(mother_age - 18, 20)
        for _ in range(children):
            # Help with upbringing reaches many teenagers: skew the ages upwards.
            age = max(self.rng.randint(0, oldest), self.rng.randint(0, oldest))
            members.append(self._person(family, names, age=age, taken=members))
        return members

    def _person(self, family, names, *, age, gender=None, parent=False, taken=()) -> Person:
        if gender is None:
            gender = "d" if age >= 14 and self.rng.random() < 0.03 else self.rng.choice("fm")
        pool = names[("parent_" if parent else "child_") + (gender if gender != "d" else "f")]
        first_name = self.rng.choice(pool)
        for _ in range(5):
            if first_name not in {p.first_name for p in taken}:
                break
            first_name = self.rng.choice(pool)
        birth_date = self.today - relativedelta(years=age) - _days(self.rng.randint(1, 360))
        if parent:
            role = PersonRole.PARENT
        elif age < 14:
            role = PersonRole.CHILD
        elif age < 18:
            role = PersonRole.YOUTH
        else:
            role = PersonRole.YOUNG_ADULT
        return Person(
            family=family,
            first_name=first_name,
            last_name=family.name,
            birth_date=birth_date,
            role=role,
            gender=gender,
        )

    # cases

    def _draft_cases(self, families: list[FamilyDraft]) -> list[CaseDraft]:
        kinds = ["twice"] * 30 + ["closed"] * 15
        kinds += ["open"] * (len(families) - len(kinds))
        self.rng.shuffle(kinds)
        cases = []
        for fam, kind in zip(families, kinds, strict=True):
            if kind == "twice":
                opened = self._ago(560, 730)
                closed = opened + _days(self.rng.randint(120, 300))
                cases.append(self._case(fam, opened, closed))
                cases.append(self._case(fam, closed + _days(self.rng.randint(30, 150))))
            elif kind == "closed":
                opened = self._ago(200, 730)
                closed = min(opened + _days(self.rng.randint(90, 400)), self._ago(7, 60))
                cases.append(self._case(fam, opened, closed))
            else:
                recent = self.rng.random() < 0.1
                cases.append(self._case(fam, self._ago(0, 24) if recent else self._ago(30, 720)))
        self._assign_owners(cases)
        return cases

    def _case(self, fam: FamilyDraft, opened, closed=None) -> CaseDraft:
        case = Case(family=fam.family, team=self.org.teams[fam.team], opened_on=opened)
        if closed is not None:
            reason = self._pick(CLOSING_REASONS)
            case.status = CaseStatus.CLOSED
            case.closed_on = closed
            case.closing_reason = reason
            case.closing_note = CLOSING_NOTES[reason].format(place=self.rng.choice(PLACES))
        return CaseDraft(fam, case)

    def _assign_owners(self, cases: list[CaseDraft]) -> None:
        for team, workers in self.workers.items():
            mine = [cd for cd in cases if cd.team == team]
            open_ = [cd for cd in mine if cd.case.is_open]
            self.rng.shuffle(open_)
            # `asd` (first of team Nord) gets a fixed caseload, the others share the rest
            fixed = ASD_OPEN_CASES if team == "nord" else 0
            for cd in open_[:fixed]:
                cd.case.owner = workers[0]
            others = workers[1:] if fixed else workers
            for i, cd in enumerate(open_[fixed:]):
                cd.case.owner = others[i % len(others)]
            for cd in mine:
                if not cd.case.is_open:
                    cd.case.owner = self.rng.choice(workers)

    # helps

    def _draft_closed_case_helps(self, cd: CaseDraft) -> None:
        opened, closed = cd.case.opened_on, cd.case.closed_on
        start = opened + _days(self.rng.randint(7, 30))
        last_end = closed - _days(self.rng.randint(0, 21))
        if (last_end - start).days > 150 and self.rng.random() < 0.3:
            first_end = start + _days(self.rng.randint(60, (last_end - start).days - 60))
            first = self._help(cd, start)
            self._end(first, first_end, SWITCH_END_REASONS)
            start = first_end + _days(self.rng.randint(0, 14))
        self._end(self._help(cd, start), last_end, CLOSED_END_REASONS)

    def _draft_open_case_helps(self, cd: CaseDraft) -> None:
        opened = cd.case.opened_on
        age = (self.today - opened).days
        if age < 25:  # still clarifying: maybe a first request waits for approval
            if self.rng.random() < 0.5:
                self._help(cd, self.today + _days(self.rng.randint(7, 21)), status=REQUESTED)
            return
        start = opened + _days(self.rng.randint(7, min(45, age - 7)))
        running_days = (self.today - start).days
        draw = self.rng.random()
        if draw < 0.16 and running_days > 120:
            self._draft_switch(cd, start)
        elif draw < 0.26:
            first = self._help(cd, start)
            exclude = (first.help.legal_basis,) if first else ()
            second_start = self._between(start, self.today)
            self._help(cd, second_start, stationary=False, exclude=exclude)
        elif draw < 0.30:
            first = self._help(cd, start)
            exclude = (first.help.legal_basis,) if first else ()
            later = self.today + _days(self.rng.randint(7, 28))
            self._help(cd, later, stationary=False, exclude=exclude, status=REQUESTED)
        elif draw < 0.37 and running_days > 60:
            self._end(self._help(cd, start), self._ago(1, 30), {HelpEndReason.AS_PLANNED: 1})
        elif draw < 0.42:
            self._help(cd, self.today + _days(self.rng.randint(3, 21)), status=REQUESTED)
        elif draw < 0.48:
            # A residential placement was refused; a flexible help in the region came instead.
            self._help(cd, start, stationary=True, status=ApprovalStatus.REJECTED)
            later = start + _days(self.rng.randint(0, min(21, running_days)))
            self._help(cd, later, stationary=False)
        else:
            self._help(cd, start)

    def _draft_switch(self, cd: CaseDraft, start: datetime.date) -> None:
        """A first help ended (a return home, a change, a break-off) and a second one runs."""
        end = start + _days(self.rng.randint(60, (self.today - start).days - 30))
        stationary_first = self.rng.random() < 0.45
        first = self._help(cd, start, stationary=True if stationary_first else None)
        if first and first.help.setting == Setting.STATIONARY and self.rng.random() < 0.7:
            self._end(first, end, {HelpEndReason.RETURN: 1})
            self._help(cd, end + _days(self.rng.randint(0, 14)), stationary=False)
            return
        self._end(first, end, SWITCH_END_REASONS)
        self._help(cd, end + _days(self.rng.randint(0, 14)))

    def _end(self, hd: HelpDraft | None, on: datetime.date, reasons: dict) -> None:
        if hd is None:
            return
        allowed = {
            reason: weight
            for reason, weight in reasons.items()
            if reason != HelpEndReason.RETURN or hd.help.setting == Setting.STATIONARY
        } or {HelpEndReason.AS_PLANNED: 1}
        missing = [reason for reason in allowed if reason not in self.seen_reasons]
        reason = missing[0] if missing else self._pick(allowed)
        self.seen_reasons.add(reason)
        hd.help.end = max(on, hd.help.start)
        hd.help.end_reason = reason

    def _help(
        self, cd, start, stationary=None, *, exclude=(), status=ApprovalStatus.APPROVED
    ) -> HelpDraft | None:
        """Draft a help for the case starting on `start`; None if no basis fits the family."""
        basis = self._pick_basis(cd, start, stationary, exclude)
        if basis is None:
            return None
        setting = self._pick_setting(basis, stationary)
        provider = self._pick_provider(setting)
        help = Help(
            case=cd.case,
            recipient=self._pick_recipient(cd, basis, start),
            legal_basis=basis,
            setting=setting,
            provider=self.org.providers[provider],
            responsible_staff=self._pick_staff(provider) if status == APPROVED else None,
            start=start,
            planned_end=self._planned_end(basis, setting, start),
            status=status,
            created_by=cd.case.owner,
        )
        if setting == Setting.STATIONARY:
            help.daily_rate = Decimal(self.rng.randint(15000, 32000)) / 100
        elif setting in AMBULANT_SETTINGS:
            help.planned_hours_per_month = Decimal(self.rng.choice(HOURS.get(basis, [8, 12, 16])))
        if status == REQUESTED:
            requested_on = self._ago(0, 6)
        else:
            requested_on = start - _days(self.rng.randint(5, 21))
        hd = HelpDraft(cd, help, max(requested_on, cd.case.opened_on))
        cd.helps.append(hd)
        return hd

    def _candidates(self, cd: CaseDraft, basis: str, day: datetime.date) -> list[Person]:
        low, high = RECIPIENT_AGES[basis]
        return [p for p in cd.fam.young if p.birth_date <= day and low <= p.age_on(day) <= high]

    def _pick_basis(self, cd, start, stationary, exclude) -> str | None:
        bases = [
            basis
            for basis in LegalBasis.values
            if basis not in exclude
            and self._candidates(cd, basis, start)
            and self._setting_options(basis, stationary)
        ]
        if not bases:
            return None
        # Every legal basis appears at least once, whatever the family mix turns out to be.
        missing = [basis for basis in bases if basis not in self.seen_bases]
        weights = BASIS_WEIGHTS[cd.team]
        basis = missing[0] if missing else self._pick({b: weights[b] for b in bases})
        self.seen_bases.add(basis)
        return basis

    def _setting_options(self, basis: str, stationary: bool | None) -> list[str]:
        options = list(allowed_settings(basis))
        if stationary is True:
            return [s for s in options if s == Setting.STATIONARY]
        if stationary is False:
            return [s for s in options if s in AMBULANT_SETTINGS]
        return options

    def _pick_setting(self, basis: str, stationary: bool | None) -> str:
        options = self._setting_options(basis, stationary)
        weights = SETTING_WEIGHTS.get(basis, {})
        return self._pick({s: weights.get(s, 1) for s in options})

    def _pick_recipient(self, cd: CaseDraft, basis: str, start) -> Person | None:
        if self.rng.random() < FAMILY_HELP_SHARE.get(basis, 0):
            return None
        return self.rng.choice(self._candidates(cd, basis, start))

    def _pick_provider(self, setting: str) -> str:
        return self._pick(
            STATIONARY_WEIGHTS if setting == Setting.STATIONARY else CONSORTIUM_WEIGHTS
        )

    def _pick_staff(self, provider: str):
        staff = self.staff[provider]
        return self.rng.choices(staff, weights=[STAFF_WEIGHTS.get(u.username, 1) for u in staff])[0]

    def _planned_end(self, basis: str, setting: str, start) -> datetime.date | None:
        if setting == Setting.STATIONARY and self.rng.random() < 0.5:
            return None
        months = 6 if basis == LegalBasis.COUNSELLING else self.rng.choice([6, 9, 12, 12, 18])
        return start + relativedelta(months=months)

    # guarantees for the demo personas

    def _ensure_provider_share(self, running: list[HelpDraft]) -> None:
        for (provider, team), minimum in MIN_ACTIVE.items():
            target = self.org.providers[provider]
            in_team = [hd for hd in running if hd.cd.team == team]
            have = sum(hd.help.provider == target for hd in in_team)
            movable = [
                hd
                for hd in in_team
                if hd.help.provider.kind == ProviderKind.CONSORTIUM
                and hd.help.provider != target
                and hd.help.setting in AMBULANT_SETTINGS
            ]
            for hd in movable[: max(0, minimum - have)]:
                hd.help.provider = target
                hd.help.responsible_staff = self._pick_staff(provider)

    def _mark_ending_soon(self, running: list[HelpDraft]) -> None:
        """A few running helps end within 30 days, two of them in `asd`'s cases."""
        for hd in running:
            if hd.help.planned_end and hd.help.planned_end <= self.today + _days(30):
                hd.help.planned_end = self.today + _days(self.rng.randint(45, 270))
        own = [hd for hd in running if hd.cd.case.owner.username == "asd"]
        others = [hd for hd in running if hd not in own]
        for hd in own[:2] + self.rng.sample(others, 6):
            hd.help.planned_end = self.today + _days(self.rng.randint(1, 30))

    def _mark_reviews(self, running: list[HelpDraft]) -> None:
        """Let some current plans be overdue or due within 30 days, `asd`'s cases first."""
        overdue_from = self.today - self.interval - _days(1)
        due_from = self.today + _days(30) - self.interval
        quota = {"overdue": 2, "due_soon": 2}
        own = [hd for hd in running if hd.cd.case.owner.username == "asd"]
        for hd in own + [hd for hd in running if hd not in own]:
            eligible = {"fine": 73}
            if hd.help.start <= due_from:
                eligible["due_soon"] = 15
            if hd.help.start <= overdue_from:
                eligible["overdue"] = 12
            forced = [state for state in quota if quota[state] > 0 and state in eligible]
            if forced and hd in own:
                hd.review = forced[0]
                quota[forced[0]] -= 1
            else:
                hd.review = self._pick(eligible)

    # help plans

    def _meetings(self, hd: HelpDraft) -> list[datetime.date]:
        help = hd.help
        if help.end is not None:
            meetings, meeting = [help.start], help.start
            while True:
                meeting = meeting + self.interval + _days(self.rng.randint(-14, 10))
                if meeting >= help.end - _days(14) or meeting > self.today:
                    break
                meetings.append(meeting)
        else:
            meetings = self._meetings_of_running(hd)
        # Older versions were kept on paper: at most three in the system.
        return meetings if len(meetings) <= 3 else [meetings[0], *meetings[-2:]]

    def _meetings_of_running(self, hd: HelpDraft) -> list[datetime.date]:
        start = hd.help.start
        if hd.review == "overdue":
            last = self.today - _days(self.rng.randint(1, 45)) - self.interval
        elif hd.review == "due_soon":
            last = self.today + _days(self.rng.randint(0, 30)) - self.interval
        else:
            last = self.today - _days(self.rng.randint(0, 140))
        last = max(last, start)
        meetings = [last]
        earlier = last - self.interval - _days(self.rng.randint(0, 10))
        while earlier > start + _days(30):
            meetings.insert(0, earlier)
            earlier = earlier - self.interval - _days(self.rng.randint(0, 10))
        if meetings[0] != start:
            meetings.insert(0, start)
        return meetings

    def _texts(self, hd: HelpDraft) -> dict[str, str]:
        fam = hd.cd.fam
        young = hd.help.recipient or (fam.young or fam.members)[0]
        return {
            "name": young.first_name,
            "parent": _title(fam.parent),
            "provider": hd.help.provider.short_name,
        }

    def _goal_texts(self, hd: HelpDraft) -> list[str]:
        recipient, start = hd.help.recipient, hd.help.start
        if recipient is None:
            pool = FAMILY_GOALS + CHILD_GOALS[:3]
        elif recipient.age_on(start) >= 18:
            pool = YOUNG_ADULT_GOALS
        elif recipient.age_on(start) >= 14:
            pool = YOUTH_GOALS
        else:
            pool = CHILD_GOALS + FAMILY_GOALS[:3]
        if hd.help.setting == Setting.STATIONARY:
            pool = STATIONARY_GOALS + pool[:3]
        texts = self._texts(hd)
        goals = self.rng.sample(pool, self.rng.randint(2, min(4, len(pool))))
        return [goal.format(**texts) for goal in goals]

    def _goal_status(self, hd: HelpDraft, current: bool) -> str:
        if not current:
            return self.rng.choice([GoalStatus.OPEN, GoalStatus.IN_PROGRESS])
        if hd.help.end is None:
            weights = {GoalStatus.OPEN: 3, GoalStatus.IN_PROGRESS: 5, GoalStatus.REACHED: 2}
        elif hd.help.end_reason in (HelpEndReason.AS_PLANNED, HelpEndReason.RETURN):
            weights = {
                GoalStatus.REACHED: 75,
                GoalStatus.IN_PROGRESS: 15,
                GoalStatus.NOT_REACHED: 10,
            }
        else:
            weights = {GoalStatus.NOT_REACHED: 5, GoalStatus.IN_PROGRESS: 4, GoalStatus.REACHED: 1}
        return self._pick(weights)

    def _participants(self, hd: HelpDraft, young_present: bool, parents_present: bool) -> str:
        fam, help = hd.cd.fam, hd.help
        people = []
        if parents_present:
            people += [
                f"{p.first_name} {p.last_name} ({'Vater' if p.gender == 'm' else 'Mutter'})"
                for p in fam.members
                if p.role == PersonRole.PARENT
            ]
        if young_present and help.recipient:
            people.append(f"{help.recipient.first_name} {help.recipient.last_name}")
        people.append(f"{hd.cd.case.owner.get_full_name()} (ASD)")
        if help.responsible_staff:
            people.append(f"{help.responsible_staff.get_full_name()} ({help.provider.short_name})")
        else:
            people.append(f"Fachkraft {help.provider.short_name}")
        return ", ".join(people)

    def _draft_plans(self, hd: HelpDraft) -> list[tuple[HelpPlan, list[HelpPlanGoal]]]:
        goal_texts = self._goal_texts(hd)
        texts = self._texts(hd)
        steps_pool = AGREED_STEPS + (STATIONARY_STEPS if hd.help.is_stationary else [])
        meetings = self._meetings(hd)
        plans = []
        for version, meeting in enumerate(meetings, start=1):
            current = version == len(meetings)
            recipient = hd.help.recipient
            young_present = bool(recipient) and recipient.age_on(meeting) >= 8
            young_present = young_present and self.rng.random() < 0.9
            parents_present = self.rng.random() < 0.85
            steps = self.rng.sample(steps_pool, 3)
            plan = HelpPlan(
                help=hd.help,
                version=version,
                is_current=current,
                meeting_date=meeting,
                participants=self._participants(hd, young_present, parents_present),
                young_person_present=young_present,
                parents_present=parents_present,
                agreed_steps="\n".join(f"- {step.format(**texts)}" for step in steps),
                next_review_due=next_review_date(meeting),
                created_by=hd.cd.case.owner,
            )
            self._stamp(plan, meeting + _days(self.rng.randint(0, 2)))
            goals = [
                HelpPlanGoal(
                    plan=plan,
                    position=position,
                    description=text,
                    status=self._goal_status(hd, current),
                )
                for position, text in enumerate(goal_texts)
            ]
            plans.append((plan, goals))
        return plans

    # approvals

    def _draft_approvals(self, helps: list[HelpDraft]) -> list[HelpApproval]:
        approvals = []
        for hd in helps:
            help, owner = hd.help, hd.cd.case.owner
            kind = "stationary" if help.is_stationary else "ambulant"
            approval = HelpApproval(
                help=help,
                kind=ApprovalKind.GRANT,
                proposed_hours_per_month=help.planned_hours_per_month,
                reason=self.rng.choice(REQUEST_REASONS[kind]),
                requested_by=owner,
                decision=help.status,
            )
            if help.status != ApprovalStatus.REQUESTED:
                approval.decided_by = self.leads[hd.cd.team]
                approval.decided_at = self._at(hd.requested_on + _days(self.rng.randint(1, 4)))
                approval.comment = (
                    REJECTION_COMMENT
                    if help.status == ApprovalStatus.REJECTED
                    else self.rng.choice(APPROVAL_COMMENTS)
                )
            self._stamp(help, hd.requested_on)
            self._stamp(approval, hd.requested_on)
            approvals.append(approval)
        # More hours asked for two running ambulant helps in team Nord, one in Mitte.
        for team, count in (("nord", 2), ("mitte", 1)):
            ambulant = [
                hd
                for hd in helps
                if hd.is_running and hd.cd.team == team and hd.help.planned_hours_per_month
            ]
            for hd in self.rng.sample(ambulant, count):
                approval = HelpApproval(
                    help=hd.help,
                    kind=ApprovalKind.HOURS_CHANGE,
                    proposed_hours_per_month=hd.help.planned_hours_per_month + 6,
                    reason=HOURS_CHANGE_REASON,
                    requested_by=hd.cd.case.owner,
                )
                self._stamp(approval, self._ago(1, 5))
                approvals.append(approval)
        return approvals

    # journal and § 8a

    def _draft_notes(self, cases: list[CaseDraft]) -> list[CaseNote]:
        notes = []
        for cd in cases:
            case = cd.case
            texts = self._texts_of_family(cd.fam)
            kind, text = self.rng.choice(FIRST_NOTES)
            entries = [(case.opened_on, kind, text)]
            for _ in range(self.rng.randint(1, 3)):
                kind, text = self.rng.choice(FOLLOW_UP_NOTES)
                until = case.closed_on or self.today
                entries.append((self._between(case.opened_on, until), kind, text))
            if not case.is_open:
                entries.append((case.closed_on, "note", f"Fall abgeschlossen. {case.closing_note}"))
            for day, kind, text in sorted(entries, key=lambda entry: entry[0]):
                author = case.owner
                if kind == "meeting" and self.rng.random() < 0.3:
                    author = self.leads[cd.team]
                note = CaseNote(case=case, author=author, kind=kind, text=text.format(**texts))
                self._stamp(note, day)
                notes.append(note)
        return notes

    def _texts_of_family(self, fam: FamilyDraft) -> dict[str, str]:
        young = (fam.young or fam.members)[0]
        return {"name": young.first_name, "parent": _title(fam.parent)}

    def _draft_risk_assessments(self, cases: list[CaseDraft]) -> list[RiskAssessment]:
        with_children = [cd for cd in cases if any(p.age_on(self.today) < 18 for p in cd.fam.young)]
        open_ = [cd for cd in with_children if cd.case.is_open]
        own = [cd for cd in open_ if cd.case.owner.username == "asd"][:3]
        others = self.rng.sample([cd for cd in open_ if cd not in own], 15)
        closed = self.rng.sample([cd for cd in with_children if not cd.case.is_open], 4)
        assessments = []
        for i, cd in enumerate(own + others):
            # `asd` has follow-ups due this week; a third of the others too.
            soon = i < 2 or self.rng.random() < 0.35
            status = (
                RiskAssessmentStatus.PROTECTION_PLAN
                if i == 0
                else self._pick(
                    {"reported": 15, "assessed": 35, "protection_plan": 30, "closed": 20}
                )
            )
            if soon and status == RiskAssessmentStatus.CLOSED:
                status = RiskAssessmentStatus.ASSESSED
            soon = soon or status == RiskAssessmentStatus.REPORTED  # assess a new report at once
            received = max(cd.case.opened_on, self._ago(2, 90))
            if status == RiskAssessmentStatus.REPORTED:
                received = max(cd.case.opened_on, self._ago(0, 3))
            assessments.append(self._risk_assessment(cd, status, received, soon))
        for cd in closed:
            received = self._between(cd.case.opened_on, cd.case.closed_on)
            assessments.append(self._risk_assessment(cd, RiskAssessmentStatus.CLOSED, received))
        return assessments

    def _risk_assessment(self, cd: CaseDraft, status, received, soon=False) -> RiskAssessment:
        owner, texts = cd.case.owner, self._texts_of_family(cd.fam)
        children = [p for p in cd.fam.young if p.age_on(self.today) < 18]
        texts["name"] = self.rng.choice(children).first_name
        assessment = RiskAssessment(
            case=cd.case,
            report_received_on=received,
            report_source=self.rng.choice(REPORT_SOURCES),
            report_summary=self.rng.choice(REPORT_SUMMARIES).format(**texts),
            status=status,
            created_by=owner,
        )
        if status != RiskAssessmentStatus.CLOSED:
            ahead = self.rng.randint(1, 6) if soon else self.rng.randint(10, 45)
            assessment.next_follow_up_on = self.today + _days(ahead)
        if status == RiskAssessmentStatus.REPORTED:
            return assessment
        colleagues = [u for u in [*self.workers[cd.team], self.leads[cd.team]] if u != owner]
        assessment.first_assessor = owner
        assessment.second_assessor = self.rng.choice(colleagues)
        assessment.first_assessment_on = min(received + _days(self.rng.randint(0, 3)), self.today)
        if status == RiskAssessmentStatus.PROTECTION_PLAN:
            level = self._pick({RiskLevel.LATENT: 3, RiskLevel.ACUTE: 1})
            assessment.protection_plan = self.rng.choice(PROTECTION_PLANS).format(**texts)
        elif status == RiskAssessmentStatus.CLOSED:
            level = self._pick({RiskLevel.NONE: 2, RiskLevel.UNCLEAR: 1})
        else:
            level = self._pick({RiskLevel.NONE: 1, RiskLevel.UNCLEAR: 2, RiskLevel.LATENT: 1})
        assessment.risk_level = level
        assessment.assessment = ASSESSMENTS[level].format(**texts)
        return assessment

    # writing

    def _save(self, families, cases, helps) -> dict[str, int]:
        Family.objects.bulk_create([fam.family for fam in families])
        Person.objects.bulk_create([p for fam in families for p in fam.members])
        first_opened: dict[int, datetime.date] = {}
        for i, cd in enumerate(cases):
            cd.case.reference = f"seed-{i}"
            self._stamp(cd.case, cd.case.opened_on)
            first_opened.setdefault(id(cd.fam), cd.case.opened_on)
        for fam in families:
            self._stamp(fam.family, first_opened[id(fam)])
        Case.objects.bulk_create([cd.case for cd in cases])
        for cd in cases:
            # The same file number open_case() gives: opening year and primary key.
            cd.case.reference = f"{cd.case.opened_on:%Y}-{cd.case.pk:05d}"
        Case.objects.bulk_update([cd.case for cd in cases], ["reference"], batch_size=500)
        approvals = self._draft_approvals(helps)
        Help.objects.bulk_create([hd.help for hd in helps])
        HelpApproval.objects.bulk_create(approvals)
        plans = [plan for hd in helps if hd.help.is_approved for plan in self._draft_plans(hd)]
        HelpPlan.objects.bulk_create([plan for plan, _ in plans])
        goals = HelpPlanGoal.objects.bulk_create([goal for _, gs in plans for goal in gs])
        notes = CaseNote.objects.bulk_create(self._draft_notes(cases))
        assessments = RiskAssessment.objects.bulk_create(self._draft_risk_assessments(cases))
        self._backdate()
        return {
            "families": len(families),
            "persons": sum(len(fam.members) for fam in families),
            "cases": len(cases),
            "helps": len(helps),
            "approvals": len(approvals),
            "help plans": len(plans),
            "goals": len(goals),
            "journal entries": len(notes),
            "§ 8a assessments": len(assessments),
        }

    def _backdate(self) -> None:
        """auto_now_add stamps every row with now; demo history needs its own dates."""
        fields = {Family: "created_at", Case: "created_at", Help: "created_at"}
        fields |= {HelpApproval: "requested_at"}
        fields |= {HelpPlan: "created_at", CaseNote: "created_at"}
        for model, stamped in self.stamps.items():
            name = fields[model]
            for obj, when in stamped:
                setattr(obj, name, when)
            model.objects.bulk_update([obj for obj, _ in stamped], [name], batch_size=500)


# --- The command -------------------------------------------------------------------


def _sees(user) -> str:
    """What the persona sees, in the words of the DOMAIN.md access table."""
    if user.role in (Role.ASD, Role.ASD_LEAD):
        team_cases = Case.objects.visible_to(user).open().count()
        if user.role == Role.ASD:
            own = Case.objects.filter(owner=user).open().count()
            return f"{user.team}: {own} own open cases (write), {team_cases} open team cases"
        waiting = HelpApproval.objects.filter(
            help__case__team=user.team, decision=ApprovalStatus.REQUESTED
        ).count()
        return f"{user.team}: {team_cases} open team cases (write), {waiting} approvals waiting"
    if user.role in (Role.PROVIDER_STAFF, Role.PROVIDER_LEAD):
        cases = Case.objects.visible_to(user).count()
        extra = "approves staff hours" if user.role == Role.PROVIDER_LEAD else "logs hours"
        return f"{user.provider}: {cases} cases with an active help of the provider; {extra}"
    return {
        Role.DEPARTMENT_HEAD: "no personal data: aggregates, budgets, KPIs, reallocations",
        Role.CONTROLLER: "no personal data: KPIs and reports, proposes reallocations",
        Role.DATA_PROTECTION: "no case data: reads the audit log",
        Role.ADMIN: "no case data: users and master data (Django admin)",
    }.get(user.role, "")


class Command(BaseCommand):
    help = "Seed a deterministic demo scenario of the Siegen model regions (password: demo)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Seed even where KIJUFAZ_ALLOW_DEMO_SEED is false.",
        )

    def handle(self, *args, **options):
        if not settings.KIJUFAZ_ALLOW_DEMO_SEED and not options["force"]:
            raise CommandError(
                "Demo data is not allowed here (KIJUFAZ_ALLOW_DEMO_SEED is false). "
                "Use --force only on a database that may receive invented case data."
            )
        with transaction.atomic():
            present = Region.objects.filter(slug=MARKER_SLUG).exists()
            org = ensure_organisation()
            users, repaired = ensure_users(org)
            if present:
                self.stdout.write(
                    f"Demo data already present (region '{MARKER_SLUG}' exists); "
                    "only the demo users were checked."
                )
            else:
                counts = DemoScenario(org=org, users=users, today=timezone.localdate()).build()
                summary = ", ".join(f"{count} {name}" for name, count in counts.items())
                self.stdout.write(self.style.SUCCESS(f"Demo data created: {summary}."))
        if repaired:
            self.stdout.write(f"Demo users repaired: {', '.join(repaired)}.")
        self._print_logins(users)

    def _print_logins(self, users: dict) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(f"{'username':<16}{'role':<18}what they see")
        for username in PERSONAS:
            user = users[username]
            self.stdout.write(f"{username:<16}{user.role:<18}{_sees(user)}")
        others = [spec.username for spec in DEMO_USERS if spec.username not in PERSONAS]
        self.stdout.write(f"Further staff with the same password: {', '.join(others)}")
