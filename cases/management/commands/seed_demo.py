"""`python manage.py seed_demo`: a deterministic demo scenario of the Siegen model.

Two social spaces, the three consortium providers plus two outside stationary
providers, two ASD teams, one demo login per role (password `demo`) and about
two years of case work: families, cases, helps of every legal basis, approvals,
help plans, journal entries and § 8a assessments; the resource map of both
regions with the helps that involve its entries, a § 36 (2) team consultation
before every help planned for longer than six months, and goal ratings (start,
review, end; professional and own) on the lineages of the plans' goals. On top
of it (`Operations`): the daily-rate history of the placements, two years of
hour entries of every provider professional with month approvals and
corrections, preventive group offers with their sessions, and the service
contracts of both regions for this and last year with monthly postings and one
reallocation. Dates are relative to today, so the scenario always looks
current. The rows are written with bulk_create and without audit entries:
seeding is not a user action. Everything is written in one transaction, and
only when the model region does not exist yet, so a second run adds nothing.
"""

import datetime
import random
import uuid
from collections import Counter, defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from dateutil.easter import easter
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

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
from cases.models import (
    AMBULANT_SETTINGS,
    ApprovalKind,
    ApprovalStatus,
    Case,
    CaseClosingReason,
    CaseNote,
    CaseStatus,
    DailyRate,
    Family,
    GoalRating,
    GoalStatus,
    Help,
    HelpApproval,
    HelpEndReason,
    HelpPlan,
    HelpPlanGoal,
    LegalBasis,
    Person,
    PersonRole,
    RatingOccasion,
    Region,
    Resource,
    ResourceKind,
    RiskAssessment,
    RiskAssessmentStatus,
    RiskLevel,
    Setting,
    Team,
    TeamConsultation,
    allowed_settings,
)
from cases.services import needs_team_decision, next_review_date
from core.models import Role
from providers.models import (
    Activity,
    ApprovalState,
    GroupOffer,
    GroupSession,
    HourEntry,
    HourKind,
    MonthApproval,
    Provider,
    ProviderKind,
    month_start,
)

SEED = 2026
MARKER_SLUG = "modellregion"
APPROVED, REQUESTED = ApprovalStatus.APPROVED, ApprovalStatus.REQUESTED
DEMO_PASSWORD = "demo"  # nosec B105  # documented demo login, seeding is opt-in
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


# Every provider has two leads: a lead's own hours are approved by the other one (four eyes).
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
    DemoUser("kfischer", "Kerstin", "Fischer", Role.PROVIDER_LEAD, provider="friedenshort"),
    DemoUser("traegerleitung", "Claudia", "Richter", Role.PROVIDER_LEAD, provider="skf"),
    DemoUser("ghahn", "Gabriele", "Hahn", Role.PROVIDER_LEAD, provider="skf"),
    DemoUser("mlange", "Miriam", "Lange", Role.PROVIDER_STAFF, provider="skf"),
    DemoUser("dyilmaz", "Derya", "Yılmaz", Role.PROVIDER_STAFF, provider="skf"),
    DemoUser("hwolf", "Heike", "Wolf", Role.PROVIDER_LEAD, provider="diakonie"),
    DemoUser("uvogel", "Uwe", "Vogel", Role.PROVIDER_LEAD, provider="diakonie"),
    DemoUser("sjung", "Stefan", "Jung", Role.PROVIDER_STAFF, provider="diakonie"),
    DemoUser("akrause", "Alexandra", "Krause", Role.PROVIDER_STAFF, provider="diakonie"),
    DemoUser("bzimmermann", "Bernd", "Zimmermann", Role.PROVIDER_LEAD, provider="sonnenhof"),
    DemoUser("cseidel", "Carsten", "Seidel", Role.PROVIDER_LEAD, provider="sonnenhof"),
    DemoUser("nweiss", "Nina", "Weiß", Role.PROVIDER_STAFF, provider="sonnenhof"),
    DemoUser("fhartmann", "Frank", "Hartmann", Role.PROVIDER_LEAD, provider="giersberg"),
    DemoUser("ikeller", "Ines", "Keller", Role.PROVIDER_LEAD, provider="giersberg"),
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

# --- Resource map (Ressourcenplan) ---------------------------------------------------


@dataclass(frozen=True)
class ResourceSpec:
    """An entry of a region's resource map; `ages` of the young people it suits (None: the
    whole family); `used` False for entries no help involves yet."""

    organisation: str
    kind: str
    street: str
    postal_code: str
    contact_person: str
    phone: str
    offer: str
    opening_times: str
    email: str = ""
    ages: tuple[int, int] | None = None
    used: bool = True
    notes: str = ""


K = ResourceKind
RESOURCES = {
    "modellregion": [
        ResourceSpec(
            "Städtische Kita Birlenbach", K.KINDERGARTEN, "Birlenbacher Straße 48", "57078",
            "Frau Dornseifer (Leitung)", "0271 870341",
            "Betreuung von Kindern ab 1 Jahr bis zur Einschulung, U3-Gruppe, alltagsintegrierte "
            "Sprachförderung (Sprach-Kita).",
            "Mo–Fr 7:00–16:30", "kita-birlenbach@siegen.example", ages=(0, 6),
        ),
        ResourceSpec(
            "Ev. Kita Regenbogen Geisweid", K.KINDERGARTEN, "Rathausstraße 21", "57078",
            "Frau Gräbener (Leitung)", "0271 84512",
            "Vier Gruppen, Plätze für Kinder mit erhöhtem Förderbedarf, Elterncafé am "
            "Freitagvormittag.",
            "Mo–Fr 7:15–16:15", "regenbogen@ev-kitas-siegen.example", ages=(0, 6),
        ),
        ResourceSpec(
            "Kath. Kita St. Michael Geisweid", K.KINDERGARTEN, "Sohlbacher Straße 12", "57078",
            "Frau Büdenbender (Leitung)", "0271 83709",
            "Zwei Gruppen für Kinder von 2 bis 6 Jahren, Bewegungskita, Waldtag jeden Donnerstag.",
            "Mo–Fr 7:30–16:00", ages=(2, 6), used=False,
        ),
        ResourceSpec(
            "Grundschule Birlenbach", K.SCHOOL, "Birlenbacher Straße 120", "57078",
            "Herr Bender (Schulleitung)", "0271 870290",
            "Offener Ganztag bis 16 Uhr, Förderunterricht Deutsch und Mathematik, "
            "Schulbegleitung in Kooperation mit dem Hilfeleisterteam.",
            "Unterricht Mo–Fr 7:50–13:15, OGS bis 16:00", "gs-birlenbach@schulen-siegen.example",
            ages=(6, 10),
        ),
        ResourceSpec(
            "Grundschule Weidenau", K.SCHOOL, "Bismarckstraße 30", "57076",
            "Frau Achenbach (Schulleitung)", "0271 43157",
            "Zweizügige Grundschule mit Offenem Ganztag, Sprachförderklasse für neu zugewanderte "
            "Kinder.",
            "Unterricht Mo–Fr 8:00–13:15, OGS bis 16:00", "gs-weidenau@schulen-siegen.example",
            ages=(6, 10),
        ),
        ResourceSpec(
            "Gesamtschule Geisweid", K.SCHOOL, "Hagener Straße 60", "57078",
            "Frau Moll (Abteilungsleitung 5–7)", "0271 89061",
            "Sekundarstufe I und II, Berufsorientierung (KAoA), Lernzeiten am Nachmittag, "
            "Praxisklasse für schulmüde Jugendliche.",
            "Sekretariat Mo–Fr 7:30–14:00", "sekretariat@gesamtschule-geisweid.example",
            ages=(10, 18),
        ),
        ResourceSpec(
            "Schulsozialarbeit an der Gesamtschule Geisweid", K.SCHOOL_SOCIAL_WORK,
            "Hagener Straße 60", "57078", "Herr Reuter (Schulsozialarbeiter)", "0271 8906122",
            "Beratung für Schülerinnen, Schüler und Eltern, Streitschlichtung, Hilfe bei Anträgen "
            "aus dem Bildungs- und Teilhabepaket, Begleitung bei Schulabsentismus.",
            "Mo–Do 8:00–15:00, Fr 8:00–12:00", "schulsozialarbeit@gesamtschule-geisweid.example",
            ages=(10, 18),
        ),
        ResourceSpec(
            "Schulsozialarbeit an den Grundschulen Siegen-Nord", K.SCHOOL_SOCIAL_WORK,
            "Birlenbacher Straße 120", "57078", "Frau Siebel (Schulsozialarbeiterin)",
            "0271 870295",
            "Sprechstunden an den Grundschulen Birlenbach und Weidenau, Elterngespräche, "
            "Soziales Lernen in den Klassen 1 bis 4.",
            "Di und Do 8:00–13:00 (Birlenbach), Mi 8:00–13:00 (Weidenau)", ages=(6, 10),
        ),
        ResourceSpec(
            "Jugendtreff Geisweid", K.YOUTH_CLUB, "Rathausstraße 5", "57078",
            "Herr Kolb (Leitung)", "0271 83011",
            "Offener Treff mit Billard und Kicker, Hausaufgabenhilfe, Mädchentag am Mittwoch, "
            "Ferienprogramm.",
            "Mo–Fr 14:00–20:00", "jugendtreff-geisweid@siegen.example", ages=(10, 20),
        ),
        ResourceSpec(
            "Kinder- und Jugendzentrum Weidenau", K.YOUTH_CLUB, "Weidenauer Straße 180", "57076",
            "Frau Dielmann (Leitung)", "0271 41388",
            "Kindertreff ab 8 Jahren, Bandraum und Tonstudio, Bewerbungstraining, offene "
            "Sprechstunde der Jugendberufshilfe.",
            "Di–Sa 13:00–21:00", "juz-weidenau@siegen.example", ages=(8, 20),
        ),
        ResourceSpec(
            "TuS Geisweid 1888 e. V.", K.SPORTS_CLUB, "Am Sportplatz 2", "57078",
            "Herr Weiershäuser (Jugendwart)", "0271 87744",
            "Fußball, Turnen und Leichtathletik für Kinder ab 4 Jahren; der Beitrag kann über "
            "das Bildungs- und Teilhabepaket übernommen werden.",
            "Training Mo–Fr ab 16:30, Geschäftsstelle Di 17:00–19:00",
            "jugend@tus-geisweid.example", ages=(4, 17),
        ),
        ResourceSpec(
            "VfB Weidenau e. V.", K.SPORTS_CLUB, "Tiergartenstraße 70", "57076",
            "Frau Schmick (Jugendleitung)", "0271 45902",
            "Handball und Tischtennis für Kinder und Jugendliche, Mädchenmannschaften, "
            "Probetraining jederzeit.",
            "Training Mo, Mi, Fr 17:00–20:00", "info@vfb-weidenau.example", ages=(6, 17),
        ),
        ResourceSpec(
            "Ev.-Ref. Kirchengemeinde Klafeld", K.CHURCH, "Kirchweg 4", "57078",
            "Pfarrerin Womelsdorf", "0271 82417",
            "Krabbelgruppe, Kinderbibeltage, Konfirmandenarbeit, Kleiderstube im Gemeindehaus.",
            "Gemeindebüro Mo, Mi, Fr 9:00–12:00", "gemeindebuero@klafeld.example",
        ),
        ResourceSpec(
            "Kath. Pfarrei St. Joseph Weidenau", K.CHURCH, "Poststraße 41", "57076",
            "Herr Hees (Gemeindereferent)", "0271 48510",
            "Mutter-Kind-Gruppe, Ferienfreizeit für Kinder, Sprechstunde der Caritas-Konferenz.",
            "Pfarrbüro Di und Do 9:00–12:00, Do 15:00–18:00", used=False,
        ),
        ResourceSpec(
            "Erziehungs- und Familienberatungsstelle der Diakonie, Außenstelle Geisweid",
            K.COUNSELLING, "Hagener Straße 14", "57078",
            "Frau Dr. Heinz (Diplom-Psychologin)", "0271 5003310",
            "Erziehungsberatung nach § 28 SGB VIII, Trennungs- und Scheidungsberatung, Gruppe "
            "für Kinder aus Trennungsfamilien; kostenfrei und vertraulich.",
            "Mo–Fr 9:00–12:00, Mo–Do 14:00–17:00 nach Vereinbarung",
            "eb-geisweid@diakonie-siegen.example",
        ),
        ResourceSpec(
            "Schuldner- und Insolvenzberatung der Caritas", K.COUNSELLING, "Weidenauer Straße 72",
            "57076", "Herr Menn (Schuldnerberater)", "0271 2360217",
            "Budgetberatung, Haushaltsplan, Verhandlung mit Gläubigern, "
            "P-Konto-Bescheinigung, Begleitung ins Verbraucherinsolvenzverfahren.",
            "Offene Sprechstunde Di 9:00–12:00, sonst nach Vereinbarung",
            "schuldnerberatung@caritas-siegen.example",
        ),
        ResourceSpec(
            "Familienzentrum Weidenau", K.OTHER, "Schneppenkauten 9", "57076",
            "Frau Lehmann (Koordination)", "0271 3877410",
            "Verbund dreier Kitas: Elternberatung, Hebammensprechstunde, Babytreff, "
            "Vermittlung von Tagespflege.",
            "Mo–Fr 8:00–15:00", "familienzentrum-weidenau@siegen.example",
        ),
        ResourceSpec(
            "Stadtteilbüro Geisweid", K.OTHER, "Rijnsburger Straße 3", "57078",
            "Herr Krüger (Quartiersmanagement)", "0271 4048820",
            "Offene Sprechstunde, Hilfe bei Anträgen, Stadtteilkonferenz, Vermittlung in "
            "Angebote des Sozialraums.",
            "Mo, Mi 9:00–13:00, Do 14:00–18:00", "stadtteilbuero-geisweid@siegen.example",
            notes="Auch Treffpunkt des Elterncafés Siegen-Nord.",
        ),
        ResourceSpec(
            "Siegener Tafel, Ausgabestelle Geisweid", K.INITIATIVE, "Dillnhütter Straße 20",
            "57078", "Frau Neumann (Ehrenamtskoordination)", "0271 2384470",
            "Lebensmittelausgabe für Menschen mit geringem Einkommen (Nachweis über Bürgergeld, "
            "Wohngeld o. ä.); Kinderfrühstück in den Ferien.",
            "Di und Fr 10:00–12:30",
        ),
    ],
    "siegen-mitte": [
        ResourceSpec(
            "Städtische Kita Fischbacherberg", K.KINDERGARTEN, "Hermelsbacher Weg 31", "57072",
            "Frau Braun (Leitung)", "0271 3302140",
            "Fünf Gruppen, plusKita mit Sprachförderung, Eltern-Kind-Gruppe für Familien ohne "
            "Kita-Platz.",
            "Mo–Fr 7:00–16:30", "kita-fischbacherberg@siegen.example", ages=(0, 6),
        ),
        ResourceSpec(
            "Kath. Kita St. Marien", K.KINDERGARTEN, "Löhrstraße 37", "57072",
            "Frau Wiebe (Leitung)", "0271 51722",
            "Drei Gruppen für Kinder von 2 bis 6 Jahren, interkulturelle Elternarbeit.",
            "Mo–Fr 7:15–16:00", "kita-st-marien@kath-siegen.example", ages=(2, 6),
        ),
        ResourceSpec(
            "Grundschule Am Wellersberg", K.SCHOOL, "Wellersbergstraße 48", "57072",
            "Herr Schröder (Schulleitung)", "0271 52240",
            "Offener Ganztag, Lese- und Rechtschreibförderung, Elternsprechtage mit "
            "Sprachmittlung.",
            "Unterricht Mo–Fr 8:00–13:15, OGS bis 16:00", "gs-wellersberg@schulen-siegen.example",
            ages=(6, 10),
        ),
        ResourceSpec(
            "Gesamtschule Eiserfeld", K.SCHOOL, "Eiserfelder Straße 390", "57080",
            "Frau Fuchs (Abteilungsleitung 8–10)", "0271 35610",
            "Sekundarstufe I und II, Berufsorientierungsbüro, Förderunterricht, "
            "Schulsanitätsdienst.",
            "Sekretariat Mo–Fr 7:30–14:30", "sekretariat@gesamtschule-eiserfeld.example",
            ages=(10, 18),
        ),
        ResourceSpec(
            "Schulsozialarbeit an der Gesamtschule Eiserfeld", K.SCHOOL_SOCIAL_WORK,
            "Eiserfelder Straße 390", "57080", "Herr Penner (Schulsozialarbeiter)", "0271 3561123",
            "Einzelberatung, Klassenrat und Sozialtraining, Hilfe bei Mobbing, Kontakt zu "
            "Eltern und Jugendamt.",
            "Mo–Fr 8:00–14:00", "schulsozialarbeit@gesamtschule-eiserfeld.example",
            ages=(10, 18),
        ),
        ResourceSpec(
            "Offener Kinder- und Jugendtreff Fischbacherberg", K.YOUTH_CLUB,
            "Hermelsbacher Weg 12", "57072", "Frau Kaya (Leitung)", "0271 3876501",
            "Offener Treff, Kochgruppe, Hausaufgabenhilfe, Mädchen- und Jungentag, "
            "Ausflüge in den Ferien.",
            "Mo–Fr 13:30–19:30", "jugendtreff-fischbacherberg@siegen.example", ages=(8, 18),
        ),
        ResourceSpec(
            "Sportfreunde Siegen 1899 e. V., Jugendabteilung", K.SPORTS_CLUB, "Leimbachstraße 44",
            "57074", "Herr Schwarz (Jugendkoordinator)", "0271 3848990",
            "Fußball für Kinder und Jugendliche von der Bambini- bis zur A-Jugend, "
            "Sozialfonds für Vereinsbeiträge.",
            "Training Mo–Fr ab 16:00, Geschäftsstelle Mo–Do 10:00–16:00",
            "jugend@sportfreunde-siegen.example", ages=(5, 18),
        ),
        ResourceSpec(
            "Ev. Nikolai-Kirchengemeinde Siegen", K.CHURCH, "Sandstraße 10", "57072",
            "Pfarrer Irle", "0271 23175",
            "Kinder- und Jugendchor, offene Kirche, Mittagstisch für Alleinstehende und Familien.",
            "Gemeindebüro Mo–Fr 9:00–12:00", "gemeindebuero@nikolai-siegen.example", used=False,
        ),
        ResourceSpec(
            "Kath. Pfarrei St. Marien Siegen", K.CHURCH, "Oranienstraße 20", "57072",
            "Frau Kowalski (Gemeindereferentin)", "0271 23230",
            "Eltern-Kind-Gruppen, Sprachcafé, Kleiderkammer, Ferienfreizeit für Kinder.",
            "Pfarrbüro Mo–Fr 9:00–12:00, Mi 14:00–17:00", "pfarrbuero@st-marien-siegen.example",
        ),
        ResourceSpec(
            "Caritas-Erziehungsberatungsstelle Siegen", K.COUNSELLING, "Kölner Straße 60",
            "57072", "Herr Dr. Neufeld (Leitung)", "0271 2360301",
            "Erziehungs- und Familienberatung, Beratung für Jugendliche, begleiteter Umgang, "
            "Online-Beratung.",
            "Mo–Do 8:30–17:00, Fr 8:30–13:00", "eb@caritas-siegen.example",
        ),
        ResourceSpec(
            "Suchtberatung des Diakonischen Werks", K.COUNSELLING, "Frankfurter Straße 11",
            "57074", "Frau Gashi (Suchtberaterin)", "0271 5003270",
            "Beratung bei Alkohol-, Cannabis- und Medienkonsum, Angebote für Jugendliche und "
            "Angehörige, Vermittlung in Therapie.",
            "Mo–Fr 9:00–12:00, Di und Do 14:00–18:00", "suchtberatung@diakonie-siegen.example",
        ),
        ResourceSpec(
            "Familienzentrum Hain", K.OTHER, "Am Häusling 5", "57074",
            "Frau Klein (Koordination)", "0271 3191520",
            "Elternkurse („Starke Eltern – starke Kinder“), Familienhebamme, Beratungstermine "
            "der Erziehungsberatung vor Ort.",
            "Mo–Fr 8:00–15:00", "familienzentrum-hain@siegen.example",
        ),
        ResourceSpec(
            "Stadtteilbüro Fischbacherberg", K.OTHER, "Hermelsbacher Weg 2", "57072",
            "Herr Al-Hassan (Quartiersmanagement)", "0271 3876480",
            "Quartiersarbeit, Sprechstunde mit Sprachmittlung (Arabisch, Türkisch, Russisch), "
            "Nachbarschaftsfeste.",
            "Di und Do 9:00–13:00, Mi 14:00–18:00", "stadtteilbuero-fischbacherberg@siegen.example",
        ),
        ResourceSpec(
            "Siegener Tafel e. V.", K.INITIATIVE, "Rosterstraße 180", "57074",
            "Herr Wagner (Vorstand)", "0271 3179866",
            "Lebensmittelausgabe, Schulranzenaktion zum Schuljahresbeginn, Weihnachtspäckchen "
            "für Kinder.",
            "Mo, Mi, Fr 10:00–13:00", "info@siegener-tafel.example",
        ),
        ResourceSpec(
            "Selbsthilfegruppe Alleinerziehende Siegen", K.INITIATIVE, "Am Häusling 5", "57074",
            "Frau Morina (Ansprechpartnerin)", "0160 91727344",
            "Austausch und gegenseitige Entlastung, Kinderbetreuung während der Treffen.",
            "Jeden zweiten Donnerstag 19:30–21:00 im Familienzentrum Hain", used=False,
        ),
    ],
}  # fmt: skip
RESOURCES_PER_HELP = [1, 1, 2, 2, 2, 3]
RESOURCE_SHARE = 0.85  # of approved helps with at least one resource of the map

# --- § 36 (2) team consultations and goal ratings ------------------------------------

BASIS_NAMES = {
    "27_2": "Flexible Hilfe nach § 27 Abs. 2 SGB VIII",
    "28": "Erziehungsberatung nach § 28 SGB VIII",
    "29": "Soziale Gruppenarbeit nach § 29 SGB VIII",
    "30": "Erziehungsbeistandschaft nach § 30 SGB VIII",
    "31": "Sozialpädagogische Familienhilfe nach § 31 SGB VIII",
    "32": "Tagesgruppe nach § 32 SGB VIII",
    "33": "Vollzeitpflege nach § 33 SGB VIII",
    "34": "Heimerziehung nach § 34 SGB VIII",
    "35": "Intensive sozialpädagogische Einzelbetreuung nach § 35 SGB VIII",
    "35a": "Eingliederungshilfe nach § 35a SGB VIII",
    "41": "Hilfe für junge Volljährige nach § 41 SGB VIII",
}
# Alternatives the team weighed beside the chosen help: (text, legal basis it stands for).
CONSULTATION_OPTIONS = {
    "stationary": [
        [("Ausweitung der ambulanten Hilfe in der Familie mit mehr Fachleistungsstunden", "27_2"),
         ("Tagesgruppe nach § 32 SGB VIII", "32")],
        [("Intensive flexible Hilfe im Sozialraum mit Krisenbegleitung", "27_2"),
         ("Vorübergehende Unterbringung bei den Großeltern", None)],
        [("Sozialpädagogische Familienhilfe nach § 31 SGB VIII", "31"),
         ("Vollzeitpflege in einer Pflegefamilie nach § 33 SGB VIII", "33")],
    ],
    "day_care": [
        [("Sozialpädagogische Familienhilfe nach § 31 SGB VIII", "31"),
         ("Erziehungsbeistand nach § 30 SGB VIII", "30")],
        [("Flexible Hilfe mit Hausaufgabenbegleitung im Sozialraum", "27_2"),
         ("Offener Ganztag mit Unterstützung der Schulsozialarbeit", None)],
    ],
    "ambulant": [
        [("Beratung in der Erziehungsberatungsstelle", "28"),
         ("Gruppenangebot im Sozialraum ohne Hilfe zur Erziehung", None)],
        [("Kurze Krisenintervention von höchstens drei Monaten", None),
         ("Soziale Gruppenarbeit nach § 29 SGB VIII", "29")],
        [("Anbindung an Schulsozialarbeit und Jugendtreff", None),
         ("Sozialpädagogische Familienhilfe nach § 31 SGB VIII", "31")],
        [("Erziehungsbeistand nach § 30 SGB VIII", "30"),
         ("Tagesgruppe nach § 32 SGB VIII", "32")],
    ],
    "young_adult": [
        [("Beratung durch Jugendberufshilfe und Jobcenter ohne Hilfe nach SGB VIII", None),
         ("Ende der Jugendhilfe mit dem 18. Geburtstag", None)],
        [("Ambulante Begleitung in der eigenen Wohnung", None),
         ("Betreutes Wohnen in einer Jugendwohngemeinschaft", None)],
    ],
}  # fmt: skip
CONSULTATION_REASONS = {
    "stationary": [
        "Die bisherigen ambulanten Hilfen haben die Versorgung von {name} nicht ausreichend "
        "gesichert.",
        "{parent} kann die Erziehung derzeit auch mit Unterstützung nicht verlässlich "
        "gewährleisten.",
        "{name} wünscht selbst Abstand zur Familie; die Sorgeberechtigten stimmen zu.",
        "Die Rückkehr in den Sozialraum bleibt Ziel; Besuchskontakte werden im Hilfeplan "
        "vereinbart.",
        "Ein Platz nahe Siegen erhält den Kontakt zu Schule und Familie.",
    ],
    "day_care": [
        "{name} braucht eine verlässliche Struktur am Nachmittag; die Eltern werden durch "
        "Elternarbeit einbezogen.",
        "Die Schule berichtet von deutlichen Schwierigkeiten; eine Beratung allein reicht nicht.",
        "Die Familie bleibt zusammen; eine Unterbringung wird so vermieden.",
    ],
    "ambulant": [
        "Die Schwierigkeiten bestehen seit Längerem; eine kurze Beratung reicht nach "
        "Einschätzung des Teams nicht aus.",
        "Die Familie ist motiviert und gut erreichbar; Ressourcen im Stadtteil (Schule, Verein, "
        "Familienzentrum) lassen sich einbeziehen.",
        "Eine Hilfe im Sozialraum vermeidet eine Unterbringung außerhalb der Familie.",
        "{name} und {parent} haben sich im Gespräch für diese Hilfe ausgesprochen.",
        "Mehrere Lebensbereiche sind betroffen (Schule, Tagesstruktur, Finanzen); das braucht "
        "Zeit.",
    ],
    "young_adult": [
        "{name} kann noch nicht selbstständig wohnen und zugleich eine Ausbildung bewältigen.",
        "{name} hat sich im Gespräch ausdrücklich für die Fortsetzung der Hilfe ausgesprochen.",
        "Ohne Unterstützung drohen der Abbruch der Ausbildung und der Verlust der Wohnung.",
        "Der Übergang in Angebote des Jobcenters wird im Hilfeplan vorbereitet (§ 41a SGB VIII).",
    ],
}
CONSULTATION_DAYS_BEFORE_REQUEST = 14
START_RATINGS = {1: 25, 2: 40, 3: 25, 4: 10}  # professional rating at the start of a help
OWN_DRIFT = [-1, 0, 0, 1, 1]  # families tend to rate themselves a little better
REVIEW_DRIFT = [-1, 0, 1, 1]
REVIEW_SHARE = 0.6  # of later plan versions with review ratings
END_RATINGS = {
    HelpEndReason.AS_PLANNED: {5: 35, 4: 45, 3: 15, 2: 5},
    HelpEndReason.RETURN: {5: 20, 4: 45, 3: 30, 2: 5},
    HelpEndReason.CHANGED: {4: 20, 3: 45, 2: 30, 1: 5},
    HelpEndReason.BROKEN_OFF_FAMILY: {4: 5, 3: 40, 2: 45, 1: 10},
    HelpEndReason.BROKEN_OFF_PROVIDER: {4: 5, 3: 40, 2: 45, 1: 10},
}
OWN_RATING_SHARE = {RatingOccasion.START: 0.8, RatingOccasion.REVIEW: 0.7, RatingOccasion.END: 0.75}
END_RATING_SHARE = 0.9  # of root goals rated at the end of a help


def _days(n: int) -> datetime.timedelta:
    return datetime.timedelta(days=n)


def _clamp(rating: int) -> int:
    return min(5, max(1, rating))


def _weighted(rng: random.Random, weights: dict[int, int]) -> int:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


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
        # Only the administrator uses the Django admin; the data-protection officer reads
        # the audit log in the privacy app.
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
        self.rng = random.Random(SEED)  # noqa: S311  # nosec B311  # demo data, not security
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
        counts = self._save(families, cases, helps)
        return counts | Operations(self, families, helps).build()

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

    # § 36 (2), the resource map and goal ratings: each draws from a random stream of its
    # own, so the case scenario drawn from self.rng stays exactly as it was.

    def _stream(self, topic: str) -> random.Random:
        return random.Random(f"{SEED}-{topic}")  # noqa: S311  # nosec B311  # demo data, not security

    def _moment(self, rng: random.Random, day: datetime.date) -> datetime.datetime:
        time = datetime.time(rng.randint(9, 15), rng.choice([0, 15, 30, 45]))
        return min(timezone.make_aware(datetime.datetime.combine(day, time)), self.now)

    def _save_consultations(self, helps: list[HelpDraft]) -> int:
        """Several professionals choose every help planned for more than six months or
        without a planned end (§ 36 (2)): the owner, the team lead and one or two
        colleagues, in the two weeks before the help is requested."""
        rng = self._stream("consultations")
        drafts = []
        for hd in helps:
            if not needs_team_decision(hd.help):
                continue
            case, team = hd.cd.case, hd.cd.team
            latest = hd.requested_on
            earliest = max(case.opened_on, latest - _days(CONSULTATION_DAYS_BEFORE_REQUEST))
            held_on = earliest + _days(rng.randint(0, (latest - earliest).days))
            colleagues = [user for user in self.workers[team] if user != case.owner]
            chosen = rng.sample(colleagues, rng.randint(1, 2))
            consultation = TeamConsultation(
                case=case,
                held_on=held_on,
                created_by=case.owner,
                created_at=self._moment(rng, held_on),
                **self._consultation_texts(rng, hd),
            )
            hd.help.team_consultation = consultation
            drafts.append((consultation, [case.owner, self.leads[team], *chosen]))
        with _own_timestamps(TeamConsultation._meta.get_field("created_at")):
            TeamConsultation.objects.bulk_create([consultation for consultation, _ in drafts])
        through = TeamConsultation.participants.through
        through.objects.bulk_create(
            [
                through(teamconsultation=consultation, user=user)
                for consultation, participants in drafts
                for user in participants
            ]
        )
        return len(drafts)

    def _consultation_texts(self, rng: random.Random, hd: HelpDraft) -> dict[str, str]:
        help = hd.help
        category = {Setting.STATIONARY: "stationary", Setting.DAY_CARE: "day_care"}.get(
            help.setting, "ambulant"
        )
        if help.legal_basis == LegalBasis.YOUNG_ADULTS:
            category = "young_adult"
        options = rng.choice(CONSULTATION_OPTIONS[category])
        chosen = f"{BASIS_NAMES[help.legal_basis]} (Träger: {help.provider.name})"
        if help.planned_hours_per_month:
            chosen += f" mit {help.planned_hours_per_month:.0f} Fachleistungsstunden im Monat"
        if help.planned_end is None:
            duration = (
                "zunächst ohne festes Ende; Überprüfung im Hilfeplangespräch nach spätestens "
                "sechs Monaten"
            )
        else:
            months = round((help.planned_end - help.start).days / 30.44)
            duration = f"geplant für rund {months} Monate (bis {help.planned_end:%d.%m.%Y})"
        texts = self._texts(hd)
        reasons = rng.sample(CONSULTATION_REASONS[category], 2)
        return {
            "options_considered": "\n".join(
                f"- {text}"
                for text in [*(t for t, basis in options if basis != help.legal_basis), chosen]
            ),
            "decision": f"{chosen}, {duration}. Die Fallverantwortung bleibt bei "
            f"{hd.cd.case.owner.get_full_name()} (ASD).",
            "reasons": " ".join(reason.format(**texts) for reason in reasons),
        }

    def _save_resources(self, helps: list[HelpDraft]) -> tuple[int, int]:
        """The resource map of both regions; most approved helps involve one to three
        entries of their family's region that suit the young people's ages."""
        rng = self._stream("resources")
        regions = self.org.regions
        existing = {
            (resource.region_id, resource.organisation): resource
            for resource in Resource.objects.filter(region__in=regions.values())
        }
        usable: dict[int, list[tuple[ResourceSpec, Resource]]] = defaultdict(list)
        new = []
        for slug, specs in RESOURCES.items():
            region = regions[slug]
            for spec in specs:
                resource = existing.get((region.pk, spec.organisation))
                if resource is None:
                    resource = Resource(
                        region=region,
                        organisation=spec.organisation,
                        kind=spec.kind,
                        street=spec.street,
                        postal_code=spec.postal_code,
                        contact_person=spec.contact_person,
                        phone=spec.phone,
                        email=spec.email,
                        offer=spec.offer,
                        opening_times=spec.opening_times,
                        notes=spec.notes,
                    )
                    new.append(resource)
                if spec.used:
                    usable[region.pk].append((spec, resource))
        Resource.objects.bulk_create(new)
        through = Help.resources.through
        links = []
        for hd in helps:
            help = hd.help
            if not help.is_approved or rng.random() >= RESOURCE_SHARE:
                continue
            if help.recipient is not None:
                ages = [help.recipient.age_on(help.start)]
            else:
                ages = [p.age_on(help.start) for p in hd.cd.fam.young if p.birth_date <= help.start]
            pool, weights = [], []
            for spec, resource in usable[hd.cd.fam.family.region_id]:
                if spec.ages is None:
                    pool.append(resource)
                    weights.append(1)
                elif any(spec.ages[0] <= age <= spec.ages[1] for age in ages):
                    pool.append(resource)
                    weights.append(3)
            count = 1 if help.is_stationary else rng.choice(RESOURCES_PER_HELP)
            for _ in range(min(count, len(pool))):
                i = rng.choices(range(len(pool)), weights=weights)[0]
                links.append(through(help=help, resource=pool.pop(i)))
                weights.pop(i)
        through.objects.bulk_create(links)
        return len(new), len(links)

    def _save_goals(self, planned) -> list[HelpPlanGoal]:
        """Version 1 sets the goals; a later version's goal repeating one points to that
        first version (`origin`), the root of the lineage that carries the ratings."""
        roots, later = [], []
        for _, versions in planned:
            first = {goal.description: goal for goal in versions[0][1]}
            roots += versions[0][1]
            for _, goals in versions[1:]:
                for goal in goals:
                    goal.origin = first.get(goal.description)
                    later.append(goal)
        return HelpPlanGoal.objects.bulk_create(roots) + HelpPlanGoal.objects.bulk_create(later)

    def _save_ratings(self, planned) -> int:
        """Effectiveness: start ratings on the first version's goals, review ratings at some
        later plan meetings, end ratings on most goals of an ended help, higher when it
        ended as planned than when it was broken off. Families rate most of them too."""
        rng = self._stream("ratings")
        ratings = []

        def rate(goal, occasion, day, professional):
            own = None
            if rng.random() < OWN_RATING_SHARE[occasion]:
                own = _clamp(professional + rng.choice(OWN_DRIFT))
            ratings.append(
                GoalRating(
                    goal=goal, occasion=occasion, rated_on=day, professional=professional, own=own
                )
            )

        for hd, versions in planned:
            (first, roots), help = versions[0], hd.help
            last = {}
            for goal in roots:
                last[goal.pk] = _weighted(rng, START_RATINGS)
                rate(goal, RatingOccasion.START, first.meeting_date, last[goal.pk])
            for plan, goals in versions[1:]:
                if rng.random() >= REVIEW_SHARE:
                    continue
                for goal in goals:
                    root = goal.origin
                    last[root.pk] = _clamp(last[root.pk] + rng.choice(REVIEW_DRIFT))
                    rate(root, RatingOccasion.REVIEW, plan.meeting_date, last[root.pk])
            if help.end is None:
                continue
            status = {goal.origin_id or goal.pk: goal.status for goal in versions[-1][1]}
            for goal in roots:
                if rng.random() >= END_RATING_SHARE:
                    continue
                value = _weighted(rng, END_RATINGS[help.end_reason])
                if status[goal.pk] == GoalStatus.REACHED:
                    value = max(value, 4)
                elif status[goal.pk] == GoalStatus.NOT_REACHED:
                    value = min(value, 3)
                rate(goal, RatingOccasion.END, help.end, value)
        GoalRating.objects.bulk_create(ratings, batch_size=2000)
        return len(ratings)

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
        consultations = self._save_consultations(helps)
        Help.objects.bulk_create([hd.help for hd in helps])
        HelpApproval.objects.bulk_create(approvals)
        resources, links = self._save_resources(helps)
        planned = [(hd, self._draft_plans(hd)) for hd in helps if hd.help.is_approved]
        plans = [plan for _, versions in planned for plan in versions]
        HelpPlan.objects.bulk_create([plan for plan, _ in plans])
        goals = self._save_goals(planned)
        ratings = self._save_ratings(planned)
        notes = CaseNote.objects.bulk_create(self._draft_notes(cases))
        assessments = RiskAssessment.objects.bulk_create(self._draft_risk_assessments(cases))
        self._backdate()
        return {
            "families": len(families),
            "persons": sum(len(fam.members) for fam in families),
            "cases": len(cases),
            "helps": len(helps),
            "approvals": len(approvals),
            "team consultations": consultations,
            "resources": resources,
            "resource links": links,
            "help plans": len(plans),
            "goals": len(goals),
            "goal ratings": ratings,
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


# --- Operations: daily rates, hours, group offers, service contracts -----------------

HOUR_MONTHS = 24  # hours and group sessions reach back this many months (plus the current one)
DAY_START, DAY_END = 8 * 60, 17 * 60  # entries lie within 08:00-17:00 (minutes after midnight)
DAY_LOAD = 480  # timed minutes planned into one working day at most
CASE_LOAD = {False: 420, True: 330}  # case-specific minutes a day: staff, leads
CASE_ENTRIES = {False: 4, True: 3}
LEAD_SHARE = 0.75  # of a lead's days that go into case work
MAX_ENTRIES = 5
EXTRA_ENTRIES = {0: 40, 1: 45, 2: 15}  # entries a day beside the planned ones (at least two)
# The visit length follows the month's workload, aiming at about 65 % case-specific entries.
CASE_ENTRIES_PER_DAY = 2.6
VISIT_LENGTH = (45, 150)
RATE_INCREASE_SHARE = 1 / 3
CHRISTMAS_BREAK = ((12, 23), (1, 6))
SUMMER_BREAK = ((7, 15), (8, 25))  # roughly the NRW school holidays

TEAM_MEETINGS = {  # weekday, start, minutes
    "friedenshort": (0, 9 * 60, 90),
    "skf": (1, 13 * 60 + 30, 90),
    "diakonie": (2, 8 * 60 + 30, 90),
    "sonnenhof": (3, 10 * 60, 60),
    "giersberg": (1, 10 * 60, 60),
}
SUPERVISION = (3, 14 * 60, 120)  # first Thursday of the month
TRAINING_DAYS = [
    "Fortbildung Kinderschutz (§ 8a SGB VIII)",
    "Fortbildung Systemische Familienarbeit",
    "Fachtag Sozialraumorientierung",
    "Fortbildung Traumapädagogik",
    "Fortbildung Gesprächsführung mit Jugendlichen",
]
RECURRING_VISITS = ["fachkraft", "mlange", "sjung", "akrause"]
VISIT_NOTES = {
    Activity.DIRECT_WORK: [
        "Hausbesuch",
        "Hausbesuch: Wochenplanung mit der Familie",
        "Elterngespräch",
        "Einzelkontakt mit dem Kind",
        "Einzelgespräch mit dem Jugendlichen",
        "Begleitung zum Kinderarzt",
        "Begleitung zum Jobcenter",
        "Begleitung zur Schuldnerberatung",
        "Haushaltstraining",
        "Freizeitaktivität mit den Kindern",
        "Hausaufgabenbegleitung",
    ],
    Activity.CASE_CONFERENCE: [
        "Hilfeplangespräch im ASD",
        "Gespräch mit Schule und Eltern",
        "Fallgespräch mit der ASD-Fachkraft",
        "Kooperationsgespräch mit der Kita",
    ],
}
STATIONARY_VISIT_NOTES = {
    Activity.DIRECT_WORK: [
        "Einzelbetreuung in der Wohngruppe",
        "Begleiteter Besuchskontakt mit den Eltern",
        "Elternarbeit: Gespräch in der Einrichtung",
        "Begleitung zum Facharzt",
        "Begleitung zur Schule",
    ],
    Activity.CASE_CONFERENCE: [
        "Hilfeplangespräch im Jugendamt",
        "Entwicklungsbericht mit dem ASD besprochen",
        "Schulgespräch mit der Klassenleitung",
    ],
}
STATIONARY_HOURS = (8, 16)  # hours a month per placement of an outside stationary provider
CROSS, UNSPECIFIC = HourKind.CROSS_CASE, HourKind.CASE_UNSPECIFIC
# kind, activity, note, minutes to choose from, weight, with start and end time
FILLERS = {
    ProviderKind.CONSORTIUM: [
        (CROSS, Activity.CASE_CONFERENCE, "Kollegiale Fallberatung", (60, 75, 90), 7, True),
        (CROSS, Activity.TEAM_MEETING, "Absprachen im Team (Vertretungen)", (30, 45), 5, True),
        (CROSS, Activity.TRAINING, "Fachliteratur und Arbeitshilfen", (60, 90), 1, True),
        (CROSS, Activity.CASE_CONFERENCE, "Abstimmung mit dem ASD-Team", (45, 60), 2, True),
        (UNSPECIFIC, Activity.NETWORKING, "Stadtteilkonferenz", (90, 120), 3, True),
        (UNSPECIFIC, Activity.NETWORKING, "Netzwerktreffen Frühe Hilfen", (90,), 2, True),
        (
            UNSPECIFIC,
            Activity.NETWORKING,
            "Kooperationsgespräch mit der Grundschule",
            (45, 60),
            3,
            True,
        ),
        (UNSPECIFIC, Activity.NETWORKING, "Austausch mit der Kita-Leitung", (45, 60), 2, True),
        (
            UNSPECIFIC,
            Activity.NETWORKING,
            "Telefonate mit Netzwerkpartnern",
            (15, 30, 45),
            2,
            False,
        ),
        (
            UNSPECIFIC,
            Activity.PREVENTION,
            "Offene Sprechstunde im Stadtteilbüro",
            (120, 150),
            3,
            True,
        ),
        (UNSPECIFIC, Activity.PREVENTION, "Präventionsprojekt an der Gesamtschule", (90,), 2, True),
        (UNSPECIFIC, Activity.GROUP_OFFER, "Vorbereitung der Gruppenangebote", (45, 60), 3, True),
    ],
    ProviderKind.STATIONARY: [
        (CROSS, Activity.CASE_CONFERENCE, "Kollegiale Fallberatung", (60, 90), 6, True),
        (CROSS, Activity.TEAM_MEETING, "Übergabe im Gruppendienst", (30, 45), 6, True),
        (CROSS, Activity.TRAINING, "Fachliteratur und Arbeitshilfen", (60, 90), 1, True),
        (CROSS, Activity.CASE_CONFERENCE, "Abstimmung mit dem Jugendamt", (45, 60), 2, True),
        (UNSPECIFIC, Activity.NETWORKING, "Austausch mit Schulen im Umfeld", (45, 60), 5, True),
        (
            UNSPECIFIC,
            Activity.NETWORKING,
            "Arbeitskreis stationäre Hilfen Siegen",
            (90, 120),
            4,
            True,
        ),
        (
            UNSPECIFIC,
            Activity.NETWORKING,
            "Telefonate mit Kooperationspartnern",
            (15, 30),
            2,
            False,
        ),
        (UNSPECIFIC, Activity.PREVENTION, "Präventionsangebot im Jugendtreff", (90, 120), 5, True),
        (UNSPECIFIC, Activity.GROUP_OFFER, "Vorbereitung der Ferienfreizeit", (60, 90), 4, True),
    ],
}
CORRECTIONS = [  # professional, minutes to add (None: the whole entry), reason
    ("fachkraft", -30, "Hausbesuch endete früher; die Dauer war zu lang erfasst."),
    ("mlange", 30, "Nachbereitung (Bericht an den ASD) nachgetragen."),
    ("sjung", None, "Termin fiel aus (Familie nicht angetroffen); irrtümlich erfasst."),
]
RETURNED_MONTH = "jbauer"

# topic, target group, weekday, start, minutes, every n days, audience, anonymous participants
GROUP_OFFERS = [
    ("Elterncafé {area}", "Eltern aus dem Stadtteil", 1, 9 * 60, 120, 7, "parents", (6, 18)),
    ("Hausaufgabenhilfe {place}", "Grundschulkinder", 2, 14 * 60, 120, 7, "pupils", (5, 14)),
    ("Mädchengruppe {place}", "Mädchen von 10 bis 15 Jahren", 3, 15 * 60 + 30, 90, 7, "girls",
     (3, 10)),
    ("Väter-Kind-Samstag", "Väter mit Kindern bis 10 Jahre", 5, 10 * 60, 180, 14, "fathers",
     (4, 16)),
    ("Babytreff im Familienzentrum", "Eltern mit Babys und Kleinkindern", 4, 9 * 60 + 30, 90, 7,
     "babies", (3, 12)),
    ("Jungentreff {place}", "Jungen von 10 bis 14 Jahren", 0, 15 * 60, 120, 7, "boys", (3, 10)),
    ("Familienfrühstück", "Familien im Sozialraum", 4, 9 * 60, 120, 14, "families", (8, 18)),
    ("Sprachcafé für Mütter", "Mütter mit Einwanderungsgeschichte", 0, 10 * 60, 90, 7, "mothers",
     (4, 12)),
]  # fmt: skip
SCHOOL_AUDIENCES = {"pupils", "girls", "boys"}
AREAS = {
    "modellregion": ("Siegen-Nord", ["Geisweid", "Weidenau", "Birlenbach"]),
    "siegen-mitte": ("Siegen-Mitte", ["Stadtmitte", "Fischbacherberg", "Hain"]),
}

FLEXIBLE_PLAN = {  # current year; the previous year's personnel and overhead were 4 % lower
    "modellregion": {
        PlanCategory.PERSONNEL: 1_450_000,
        PlanCategory.RENT: 60_000,
        PlanCategory.OVERHEAD: 90_000,
    },
    "siegen-mitte": {
        PlanCategory.PERSONNEL: 920_000,
        PlanCategory.RENT: 42_000,
        PlanCategory.OVERHEAD: 58_000,
    },
}
PREVIOUS_YEAR_FACTOR = 0.96
# Computed stationary cost ÷ stationary plan; at most 99 % once a reallocation took money
# away, so that the stationary sub-budget could afford it without an override.
STATIONARY_UTILISATION = (0.88, 0.99)
POSTING_TEXTS = {
    PlanCategory.PERSONNEL: "Personalkosten Hilfeleisterteam {month}",
    PlanCategory.RENT: "Miete Stadtteilbüro {month}",
    PlanCategory.OVERHEAD: "Sach- und Verwaltungskosten {month}",
}
MONTH_NAMES = [
    "Januar", "Februar", "März", "April", "Mai", "Juni",
    "Juli", "August", "September", "Oktober", "November", "Dezember",
]  # fmt: skip
REALLOCATION_AMOUNT = Decimal("40000.00")
REALLOCATION_REASON = "Rückführung zweier Kinder in den Sozialraum; ambulante Anschlusshilfe"
CENT = Decimal("0.01")
ZERO_EURO = Decimal("0.00")


def _money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def _thousands(value: float) -> Decimal:
    return _money(round(value / 1000) * 1000)


def _round15(minutes: float) -> int:
    return int(round(minutes / 15)) * 15


def _clock(minutes: int) -> datetime.time:
    return datetime.time(minutes // 60, minutes % 60)


def _monday(day: datetime.date) -> datetime.date:
    return day - _days(day.weekday())


def _in_break(day: datetime.date, period) -> bool:
    (m1, d1), (m2, d2) = period
    if (m1, d1) <= (m2, d2):
        return (m1, d1) <= (day.month, day.day) <= (m2, d2)
    return (day.month, day.day) >= (m1, d1) or (day.month, day.day) <= (m2, d2)


def public_holidays(year: int) -> set[datetime.date]:
    """NRW public holidays, plus 24 and 31 December when the offices are closed."""
    sunday = easter(year)
    fixed = [(1, 1), (5, 1), (10, 3), (11, 1), (12, 24), (12, 25), (12, 26), (12, 31)]
    return {datetime.date(year, m, d) for m, d in fixed} | {
        sunday + _days(n)  # Good Friday, Easter Monday, Ascension, Whit Monday, Corpus Christi
        for n in (-2, 1, 39, 50, 60)
    }


@contextmanager
def _own_timestamps(*fields):
    """Let bulk_create keep the historic timestamps we set instead of stamping now."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


@dataclass(eq=False)
class Slot:
    """An hour entry being planned; `start` is set for fixed appointments."""

    kind: str
    activity: str
    minutes: int
    note: str
    help: Help | None = None
    start: int | None = None
    timed: bool = True
    recurring: bool = False

    @property
    def end(self) -> int:
        return self.start + self.minutes


@dataclass(eq=False)
class Worker:
    user: object
    provider: Provider
    lead: bool
    absent: set[datetime.date]
    days: dict[datetime.date, list[Slot]] = field(default_factory=lambda: defaultdict(list))

    def load(self, day) -> int:
        return sum(s.minutes for s in self.days[day] if s.timed)

    def takes_fixed(self, day, slot: Slot) -> bool:
        """A fixed appointment fits when it overlaps no other and the day is not full."""
        if day in self.absent or self.load(day) + slot.minutes > DAY_LOAD:
            return False
        return not any(
            other.start is not None and other.start < slot.end and slot.start < other.end
            for other in self.days[day]
        )

    def takes_visit(self, day, slot: Slot) -> bool:
        slots = self.days[day]
        case = [s for s in slots if s.help is not None]
        return (
            day not in self.absent
            and len(slots) < MAX_ENTRIES
            and len(case) < CASE_ENTRIES[self.lead]
            and sum(s.minutes for s in case) + slot.minutes <= CASE_LOAD[self.lead]
            and self.load(day) + slot.minutes <= DAY_LOAD
            and all(s.help is not slot.help for s in case)
        )


class Operations:
    """Daily-rate history, two years of hours, group offers and the service contracts.

    Runs after the case data is written (it needs the primary keys) and draws from
    random streams of its own, so the case scenario stays exactly as it was. The
    rows obey the rules of the services (providers.services, budgets.services,
    cases.services.change_daily_rate) but are written with bulk_create.
    """

    def __init__(self, scenario: "DemoScenario", families: list[FamilyDraft], helps):
        self.org = scenario.org
        self.users = scenario.users
        self.today = scenario.today
        self.now = scenario.now
        self.yesterday = self.today - _days(1)
        self.families = families
        self.helps = sorted((hd.help for hd in helps), key=lambda h: h.pk)
        self.helps_of: dict[tuple[int, int], list[Help]] = defaultdict(list)
        for help in self.helps:
            self.helps_of[(help.provider_id, help.case.family.pk)].append(help)
        self.first_day = month_start(self.today) - relativedelta(months=HOUR_MONTHS)
        self.months = [self.first_day + relativedelta(months=i) for i in range(HOUR_MONTHS + 1)]
        years = range(self.first_day.year - 1, self.today.year + 2)
        self.holidays = set().union(*(public_holidays(year) for year in years))
        self.workers: list[Worker] = []

    def _rng(self, topic: str) -> random.Random:
        return random.Random(f"{SEED}-{topic}")  # noqa: S311  # nosec B311  # demo data, not security

    def _at(self, day: datetime.date, minutes: int) -> datetime.datetime:
        moment = datetime.datetime.combine(day, _clock(minutes))
        return min(timezone.make_aware(moment), self.now)

    def _working(self, day: datetime.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def _days_between(self, first: datetime.date, last: datetime.date) -> list[datetime.date]:
        return [first + _days(i) for i in range((last - first).days + 1)]

    def build(self) -> dict[str, int]:
        rates = self._save_rates()
        self.workers = self._draft_workers()
        offers, sessions = self._save_group_offers()
        entries, approvals = self._save_hours()
        contracts, postings, reallocations = self._save_contracts()
        return {
            "daily rates": rates,
            "hour entries": entries,
            "month approvals": approvals,
            "group offers": offers,
            "group sessions": sessions,
            "service contracts": contracts,
            "postings": postings,
            "reallocations": reallocations,
        }

    # daily rates

    def _save_rates(self) -> int:
        """The first rate of every placement; for a third of those running over a
        1 January an increase from then on (the earlier rate ends the day before)."""
        rng = self._rng("rates")
        rates, over_new_year = [], []
        for help in self.helps:
            if help.setting != Setting.STATIONARY or help.daily_rate is None:
                continue
            first = DailyRate(help=help, valid_from=help.start, amount=help.daily_rate)
            rates.append(first)
            new_years = [
                datetime.date(year, 1, 1)
                for year in range(help.start.year + 1, self.today.year + 1)
                if help.end is None or help.end > datetime.date(year, 1, 1)
            ]
            if help.is_approved and new_years:
                over_new_year.append((help, first, new_years))
        raised = rng.sample(over_new_year, round(len(over_new_year) * RATE_INCREASE_SHARE))
        for help, first, new_years in raised:
            new_year = rng.choice(new_years)
            first.valid_until = new_year - _days(1)
            increase = 1 + Decimal(rng.randint(30, 60)) / 1000
            rates.append(
                DailyRate(help=help, valid_from=new_year, amount=_money(first.amount * increase))
            )
        DailyRate.objects.bulk_create(rates)
        return len(rates)

    # the professionals and their leave

    def _draft_workers(self) -> list[Worker]:
        rng = self._rng("leave")
        workers = []
        for spec in DEMO_USERS:
            if spec.provider is None:
                continue
            absent = self._absences(rng)
            if spec.username == "fachkraft":  # the demo professional's last weeks are full
                absent = {day for day in absent if day < self.today - _days(21)}
            workers.append(
                Worker(
                    user=self.users[spec.username],
                    provider=self.org.providers[spec.provider],
                    lead=spec.role == Role.PROVIDER_LEAD,
                    absent=absent,
                )
            )
        return workers

    def _absences(self, rng: random.Random) -> set[datetime.date]:
        """Holidays of about 30 working days a year, and a few days off sick."""
        absent: set[datetime.date] = set()
        for year in range(self.first_day.year, self.today.year + 1):
            summer = _monday(datetime.date(year, 6, 29) + _days(7 * rng.randint(0, 6)))
            absent |= {summer + _days(i) for i in range(rng.choice([12, 14, 19]))}
            spring_or_autumn = (
                datetime.date(year, 3, 23) if rng.random() < 0.5 else datetime.date(year, 10, 5)
            )
            week = _monday(spring_or_autumn + _days(7 * rng.randint(0, 3)))
            absent |= {week + _days(i) for i in range(5)}
            if rng.random() < 0.6:
                absent |= {datetime.date(year, 12, d) for d in (27, 28, 29, 30)}
            else:
                absent |= {datetime.date(year, 1, d) for d in (2, 3, 4, 5)}
            for _ in range(rng.randint(2, 6)):
                sick = datetime.date(year, 1, 1) + _days(rng.randint(0, 364))
                absent |= {sick + _days(i) for i in range(rng.choice([1, 1, 2, 3]))}
        return absent

    def _team(self, provider: Provider) -> list[Worker]:
        return [w for w in self.workers if w.provider == provider]

    # group offers

    def _save_group_offers(self) -> tuple[int, int]:
        rng = self._rng("groups")
        consortium = [key for key, *_, kind in PROVIDERS if kind == ProviderKind.CONSORTIUM]
        busy: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # user: weekday, from, to
        for w in self.workers:
            weekday, start, minutes = TEAM_MEETINGS[self._key(w.provider)]
            busy[w.user.pk].append((weekday, start, start + minutes))
        offers, sessions, staffing, visitors = [], [], [], []
        for r, (slug, region) in enumerate(self.org.regions.items()):
            area, places = AREAS[slug]
            chosen = [GROUP_OFFERS[0], *rng.sample(GROUP_OFFERS[1:], rng.randint(3, 5))]
            for i, (topic, target, weekday, start, minutes, every, audience, crowd) in enumerate(
                chosen
            ):
                provider = self.org.providers[consortium[(i + r) % len(consortium)]]
                team = self._offer_team(rng, provider, busy, weekday, start, start + minutes)
                begin = self.first_day + _days(
                    rng.randint(0, 20) if i == 0 else rng.randint(30, 420)
                )
                begin += _days((weekday - begin.weekday()) % 7)
                end = None
                if i > 0 and rng.random() < 0.2:
                    end = begin + _days(rng.randint(180, 360))
                    end = end if end < self.yesterday else None
                offer = GroupOffer(
                    provider=provider,
                    region=region,
                    topic=topic.format(area=area, place=rng.choice(places)),
                    target_group=target,
                    starts_on=begin,
                    ends_on=end,
                )
                offers.append(offer)
                staffing += [(offer, w.user) for w in team]
                pool = self._offer_pool(rng, provider, region, audience)
                day = begin
                while day <= min(end or self.yesterday, self.yesterday):
                    held = self._hold_session(rng, offer, team, day, start, minutes, audience)
                    if held:
                        ramp = min(1.0, 0.5 + (day - begin).days / 365)
                        count = max(3, min(18, round(rng.randint(*crowd) * ramp)))
                        session = GroupSession(
                            offer=offer,
                            date=day,
                            duration_minutes=minutes,
                            anonymous_participants=count,
                        )
                        sessions.append(session)
                        present = [p for p in pool if self._may_join(p, provider, audience, day)]
                        joined = rng.sample(
                            present, min(len(present), rng.choice([0, 1, 1, 2, 2, 3]))
                        )
                        visitors += [(session, person) for person, _ in joined]
                    day += _days(every)
        GroupOffer.objects.bulk_create(offers)
        GroupOffer.staff.through.objects.bulk_create(
            [GroupOffer.staff.through(groupoffer=offer, user=user) for offer, user in staffing]
        )
        GroupSession.objects.bulk_create(sessions, batch_size=2000)
        GroupSession.registered_participants.through.objects.bulk_create(
            [
                GroupSession.registered_participants.through(groupsession=session, person=person)
                for session, person in visitors
            ],
            batch_size=2000,
        )
        return len(offers), len(sessions)

    def _key(self, provider: Provider) -> str:
        return next(key for key, p in self.org.providers.items() if p == provider)

    def _offer_team(self, rng, provider, busy, weekday, start, end) -> list[Worker]:
        """One or two professionals of the provider who are free at that time every week."""
        free = [
            w
            for w in self._team(provider)
            if not any(d == weekday and s < end and start < e for d, s, e in busy[w.user.pk])
        ]
        team = rng.sample(free, min(len(free), rng.choice([1, 2, 2]))) or self._team(provider)[:1]
        for w in team:
            busy[w.user.pk].append((weekday, start, end))
        return team

    def _offer_pool(self, rng, provider, region, audience) -> list[tuple[Person, FamilyDraft]]:
        """Regulars: members of families with a help of the provider who fit the audience."""
        served = {h.case.family.pk for h in self.helps if h.provider == provider and h.is_approved}
        candidates = [
            (person, fam)
            for fam in self.families
            if fam.family.region == region and fam.family.pk in served
            for person in fam.members
            if self._fits_audience(person, fam, audience, self.today)
            or self._fits_audience(person, fam, audience, self.first_day)
        ]
        return rng.sample(candidates, min(len(candidates), 10))

    def _fits_audience(self, person: Person, fam: FamilyDraft, audience: str, day) -> bool:
        if person.birth_date > day:
            return False
        parent, age = person.role == PersonRole.PARENT, person.age_on(day)
        return {
            "parents": parent,
            "mothers": parent and person.gender == "f",
            "fathers": (parent and person.gender == "m") or (not parent and age <= 10),
            "babies": parent
            and any(p.birth_date <= day and p.age_on(day) < 3 for p in fam.members),
            "pupils": not parent and 6 <= age <= 10,
            "girls": not parent and person.gender == "f" and 10 <= age <= 15,
            "boys": not parent and person.gender == "m" and 10 <= age <= 14,
            "families": True,
        }[audience]

    def _may_join(self, candidate, provider, audience, day) -> bool:
        """Registered participants come from families with an active help of the provider."""
        person, fam = candidate
        return self._fits_audience(person, fam, audience, day) and any(
            h.is_active_on(day) for h in self.helps_of[(provider.pk, fam.family.pk)]
        )

    def _hold_session(self, rng, offer, team, day, start, minutes, audience) -> bool:
        """Whether the session takes place; the professionals there log it as their hours."""
        if day in self.holidays or _in_break(day, CHRISTMAS_BREAK) or rng.random() < 0.05:
            return False
        if audience in SCHOOL_AUDIENCES and _in_break(day, SUMMER_BREAK):
            return False
        slot_args = (UNSPECIFIC, Activity.GROUP_OFFER, minutes, offer.topic)
        there = [w for w in team if w.takes_fixed(day, Slot(*slot_args, start=start))]
        for w in there:
            w.days[day].append(Slot(*slot_args, start=start))
        return bool(there)

    # hours

    def _save_hours(self) -> tuple[int, int]:
        rng = self._rng("hours")
        self._plan_training_days(rng)
        self._plan_meetings()
        self._plan_recurring_visits(rng)
        for provider in self.org.providers.values():
            self._plan_visits(rng, provider)
        approvals = self._save_approvals(rng)
        entries = self._lay_out(rng, approvals)
        with _own_timestamps(HourEntry._meta.get_field("created_at")):
            HourEntry.objects.bulk_create(entries, batch_size=2000)
            corrections = self._corrections(rng, entries, approvals)
            HourEntry.objects.bulk_create(corrections)
        return len(entries) + len(corrections), len(approvals)

    @cached_property
    def work_days(self) -> list[datetime.date]:
        """Working days (Monday to Friday, no public holiday) of the window up to yesterday."""
        return [d for d in self._days_between(self.first_day, self.yesterday) if self._working(d)]

    def _plan_training_days(self, rng) -> None:
        work_days = self.work_days
        for w in self.workers:
            for _ in range(rng.randint(2, 4)):  # one or two training days a year
                day = rng.choice(work_days)
                slot = Slot(CROSS, Activity.TRAINING, 360, rng.choice(TRAINING_DAYS), start=9 * 60)
                if w.takes_fixed(day, slot):
                    w.days[day].append(slot)

    def _plan_meetings(self) -> None:
        """The provider's weekly team meeting and the monthly supervision."""
        for day in self.work_days:
            for w in self.workers:
                weekday, start, minutes = TEAM_MEETINGS[self._key(w.provider)]
                slots = []
                if day.weekday() == weekday:
                    slots.append(
                        Slot(CROSS, Activity.TEAM_MEETING, minutes, "Teamsitzung", start=start)
                    )
                weekday, start, minutes = SUPERVISION
                if day.weekday() == weekday and day.day <= 7:
                    slots.append(
                        Slot(CROSS, Activity.TRAINING, minutes, "Supervision", start=start)
                    )
                for slot in slots:
                    if w.takes_fixed(day, slot):
                        w.days[day].append(slot)

    def _plan_recurring_visits(self, rng) -> None:
        """A weekly home visit at a fixed time, marked for copying into the next week."""
        for username in RECURRING_VISITS:
            w = next(w for w in self.workers if w.user.username == username)
            helps = [
                h
                for h in self.helps
                if h.responsible_staff_id == w.user.pk
                and h.is_approved
                and h.end is None
                and h.setting in AMBULANT_SETTINGS
                and (h.planned_hours_per_month or 0) >= 8
                and h.start <= self.today - _days(70)
            ]
            if not helps:
                continue
            help = rng.choice(helps)
            start, weekday = rng.choice([8 * 60 + 30, 10 * 60, 14 * 60]), rng.choice([1, 2, 3])
            day = _monday(self.yesterday) + _days(weekday)
            day = day if day <= self.yesterday else day - _days(7)
            for _ in range(8):
                slot = Slot(
                    HourKind.CASE_SPECIFIC,
                    Activity.DIRECT_WORK,
                    90,
                    "Wöchentlicher Hausbesuch",
                    help=help,
                    start=start,
                    recurring=True,
                )
                if self._working(day) and w.takes_fixed(day, slot):
                    w.days[day].append(slot)
                day -= _days(7)

    def _plan_visits(self, rng, provider: Provider) -> None:
        """Case-specific work month by month, sized to each help's approved hours.

        Most help-months get about their planned hours; some clearly less or more,
        so the provider overview flags them. When the team is short of time, the
        helps drawn last lose visits (they show as under-delivered).
        """
        team = self._team(provider)
        stationary = provider.kind == ProviderKind.STATIONARY
        helps = [
            h
            for h in self.helps
            if h.provider == provider
            and h.is_approved
            and (
                h.setting == Setting.STATIONARY
                if stationary
                else h.setting in AMBULANT_SETTINGS and h.planned_hours_per_month
            )
        ]
        notes = STATIONARY_VISIT_NOTES if stationary else VISIT_NOTES
        logged = defaultdict(int)  # (help pk, month): minutes of fixed weekly visits
        for w in team:
            for day, slots in w.days.items():
                for s in slots:
                    if s.help is not None:
                        logged[(s.help.pk, month_start(day))] += s.minutes
        for month in self.months:
            month_days = self._days_between(month, month + relativedelta(months=1) - _days(1))
            working = [d for d in month_days if self._working(d)]
            days = [d for d in working if d <= self.yesterday]
            if not days:
                continue
            demand = []
            for help in helps:
                active = [d for d in days if help.is_active_on(d)]
                if not active:
                    continue
                share = len(active) / len(working)
                if stationary:
                    target = rng.uniform(*STATIONARY_HOURS) * 60 * share
                else:
                    target = float(help.planned_hours_per_month) * 60 * share * self._factor(rng)
                target -= logged[(help.pk, month)]
                if target >= 30:
                    demand.append((rng.random(), help, active, target))
            staff_days = sum(
                sum(d not in w.absent for d in days) * (LEAD_SHARE if w.lead else 1.0) for w in team
            )
            total = sum(target for *_, target in demand)
            length = total / max(1.0, staff_days * CASE_ENTRIES_PER_DAY)
            length = min(VISIT_LENGTH[1], max(VISIT_LENGTH[0], _round15(length)))
            for _, help, active, target in sorted(demand, key=lambda row: row[0]):
                count = max(1, round(target / length))
                for _ in range(count):
                    minutes = min(240, max(30, _round15(target / count * rng.uniform(0.75, 1.25))))
                    conference = rng.random() < (0.25 if stationary else 0.1)
                    activity = Activity.CASE_CONFERENCE if conference else Activity.DIRECT_WORK
                    slot = Slot(
                        HourKind.CASE_SPECIFIC,
                        activity,
                        minutes,
                        rng.choice(notes[activity]),
                        help=help,
                    )
                    self._place(rng, team, active, slot)

    def _factor(self, rng) -> float:
        """Delivered ÷ planned hours of one help in one month."""
        draw = rng.random()
        if draw < 0.12:
            return rng.uniform(0.45, 0.75)  # family cancelled, illness, holidays
        if draw < 0.2:
            return rng.uniform(1.25, 1.5)  # a crisis needs more
        return rng.uniform(0.88, 1.08)

    def _place(self, rng, team: list[Worker], active: list[datetime.date], slot: Slot) -> bool:
        """On a day the help is active: the responsible professional first, else a colleague."""
        responsible = [w for w in team if w.user.pk == slot.help.responsible_staff_id]
        for attempt in range(12):
            day = rng.choice(active)
            candidates = responsible if attempt < 6 and responsible else rng.sample(team, len(team))
            for w in candidates:
                if w.takes_visit(day, slot):
                    w.days[day].append(slot)
                    return True
        return False

    def _lay_out(self, rng, approvals: dict) -> list[HourEntry]:
        """Fill each working day to 2-5 entries and give them times in sequence."""
        entries = []
        for w in self.workers:
            fillers = FILLERS[w.provider.kind]
            weights = [row[4] for row in fillers]
            for day in self._days_between(self.first_day, self.yesterday):
                if self._working(day) and day not in w.absent:
                    self._fill(rng, w, day, fillers, weights)
                slots = w.days.get(day)
                if not slots:
                    continue
                approval = approvals.get((w.user.pk, month_start(day)))
                for slot, start in self._times(rng, slots):
                    entries.append(self._entry(rng, w, day, slot, start, approval))
        return entries

    def _fill(self, rng, w: Worker, day, fillers, weights) -> None:
        slots = w.days[day]
        extra = rng.choices(list(EXTRA_ENTRIES), list(EXTRA_ENTRIES.values()))[0]
        wanted = min(MAX_ENTRIES, max(2, len(slots) + extra))
        while len(slots) < wanted:
            kind, activity, note, options, _, timed = rng.choices(fillers, weights)[0]
            room = DAY_LOAD - w.load(day)
            options = [m for m in options if m <= room or not timed]
            if not options:
                if len(slots) >= 2:
                    break
                kind, activity, note, options, timed = (
                    UNSPECIFIC,
                    Activity.NETWORKING,
                    "Telefonate mit Netzwerkpartnern",
                    (15,),
                    False,
                )
            slots.append(Slot(kind, activity, rng.choice(options), note, timed=timed))

    def _times(self, rng, slots: list[Slot]) -> list[tuple[Slot, int | None]]:
        """Fixed appointments keep their time; the rest follow in sequence from 08:00."""
        placed = [(s, s.start) for s in slots if s.start is not None]
        busy = sorted((s.start, s.end) for s in slots if s.start is not None)
        flexible = [s for s in slots if s.start is None]
        rng.shuffle(flexible)
        cursor = DAY_START + rng.choice([0, 0, 15, 30])
        for slot in flexible:
            if not slot.timed:
                placed.append((slot, None))
                continue
            start = cursor
            for begin, end in busy:
                if start + slot.minutes <= begin:
                    break
                if start < end:
                    start = end + rng.choice([0, 15])
            if start + slot.minutes > DAY_END:
                placed.append((slot, None))  # logged afterwards without times
                continue
            busy = sorted([*busy, (start, start + slot.minutes)])
            placed.append((slot, start))
            cursor = start + slot.minutes + rng.choice([0, 15, 15, 30])
        return sorted(placed, key=lambda item: (item[1] is None, item[1] or 0))

    def _entry(self, rng, w: Worker, day, slot: Slot, start, approval) -> HourEntry:
        logged = self._at(day, rng.randint(16 * 60, 18 * 60))
        if rng.random() < 0.2:
            logged = self._at(day + _days(rng.randint(1, 4)), rng.randint(8 * 60, 10 * 60))
        # Ids rather than objects: tens of thousands of rows are built here.
        return HourEntry(
            staff_id=w.user.pk,
            provider_id=w.provider.pk,
            date=day,
            start_time=None if start is None else _clock(start),
            end_time=None if start is None else _clock(start + slot.minutes),
            minutes=slot.minutes,
            kind=slot.kind,
            activity=slot.activity,
            help_id=slot.help.pk if slot.help else None,
            note=slot.note,
            recurring=slot.recurring,
            approval_id=approval.pk if approval and approval.is_approved else None,
            idempotency_key=uuid.UUID(int=rng.getrandbits(128)),
            created_at=logged,
        )

    def _save_approvals(self, rng) -> dict[tuple[int, datetime.date], MonthApproval]:
        """Months before the previous one approved by another lead; one month returned."""
        previous = month_start(self.today) - relativedelta(months=1)
        approvals = {}
        for w in self.workers:
            lead = next(
                other.user for other in self._team(w.provider) if other.lead and other is not w
            )
            present = [d for d in self.work_days if d not in w.absent]
            planned = [d for d, slots in w.days.items() if slots]
            months = sorted({month_start(day) for day in [*present, *planned]})
            for month in months:
                if month >= previous:
                    continue
                decided = month + relativedelta(months=1) + _days(rng.randint(2, 9))
                approvals[(w.user.pk, month)] = MonthApproval(
                    provider=w.provider,
                    staff=w.user,
                    month=month,
                    state=ApprovalState.APPROVED,
                    decided_by=lead,
                    decided_at=self._at(decided, rng.randint(9 * 60, 16 * 60)),
                )
            if w.user.username == RETURNED_MONTH:
                day = self._returned_day(w, previous)
                approvals[(w.user.pk, previous)] = MonthApproval(
                    provider=w.provider,
                    staff=w.user,
                    month=previous,
                    state=ApprovalState.RETURNED,
                    comment=(
                        f"Am {day:%d.%m.%Y} fehlen beim Netzwerktermin Beginn und Ende; "
                        "bitte ergänzen, dann gebe ich den Monat frei."
                    ),
                    decided_by=lead,
                    decided_at=self._at(
                        min(month_start(self.today) + _days(2), self.today), 11 * 60
                    ),
                )
        with _own_timestamps(MonthApproval._meta.get_field("decided_at")):
            MonthApproval.objects.bulk_create(approvals.values())
        return approvals

    def _returned_day(self, w: Worker, month: datetime.date) -> datetime.date:
        """Log a networking entry without times on a day of the month: what the lead returns."""
        days = [
            d
            for d in self.work_days
            if month_start(d) == month and d not in w.absent and len(w.days[d]) < MAX_ENTRIES
        ] or [month + _days(14)]
        day = days[len(days) // 2]
        w.days[day].append(
            Slot(UNSPECIFIC, Activity.NETWORKING, 60, "Netzwerktreffen Frühe Hilfen", timed=False)
        )
        return day

    def _corrections(self, rng, entries: list[HourEntry], approvals: dict) -> list[HourEntry]:
        """Differences logged on approved entries, approved again with their month."""
        approval_of = {approval.pk: approval for approval in approvals.values()}
        # A correction is one more entry on the original's day: only days with room.
        per_day = Counter((e.staff_id, e.date) for e in entries)
        corrections = []
        for username, delta, reason in CORRECTIONS:
            staff = self.users[username]
            own = [
                e
                for e in entries
                if e.staff_id == staff.pk
                and e.approval_id is not None
                and e.kind == HourKind.CASE_SPECIFIC
                and e.minutes >= 60
                and per_day[(e.staff_id, e.date)] < MAX_ENTRIES
            ]
            if not own:
                continue
            original = rng.choice(own)
            approval = approval_of[original.approval_id]
            delta = -original.minutes if delta is None else delta
            noticed = approval.decided_at + datetime.timedelta(days=2)
            corrections.append(
                HourEntry(
                    staff_id=original.staff_id,
                    provider_id=original.provider_id,
                    date=original.date,
                    minutes=delta,
                    kind=original.kind,
                    activity=original.activity,
                    help_id=original.help_id,
                    note=reason,
                    corrects=original,
                    approval=approval,
                    idempotency_key=uuid.UUID(int=rng.getrandbits(128)),
                    created_at=noticed,
                )
            )
            MonthApproval.objects.filter(pk=approval.pk).update(
                decided_at=noticed + datetime.timedelta(days=1)
            )
        return corrections

    # service contracts

    def _save_contracts(self) -> tuple[int, int, int]:
        rng = self._rng("budgets")
        controller, head = self.users["controlling"], self.users["leitung"]
        members = [
            self.org.providers[key]
            for key, *_, kind in PROVIDERS
            if kind == ProviderKind.CONSORTIUM
        ]
        years = (self.today.year - 1, self.today.year)
        contracts = [
            ServiceContract(
                region=region, year=year, title=f"Leistungsvertrag {region.name} {year}"
            )
            for region in self.org.regions.values()
            for year in years
        ]
        ServiceContract.objects.bulk_create(contracts)
        ServiceContract.providers.through.objects.bulk_create(
            [
                ServiceContract.providers.through(servicecontract=contract, provider=provider)
                for contract in contracts
                for provider in members
            ]
        )
        budgets = {
            (contract, kind): SubBudget(contract=contract, kind=kind)
            for contract in contracts
            for kind in (SubBudgetKind.FLEXIBLE, SubBudgetKind.STATIONARY)
        }
        SubBudget.objects.bulk_create(budgets.values())
        lines, postings, reallocations = [], [], []
        for contract in contracts:
            slug = contract.region.slug
            moved = ZERO_EURO
            if slug == MARKER_SLUG and contract.year == self.today.year:
                reallocations.append(self._reallocation(rng, contract, controller, head))
                moved = REALLOCATION_AMOUNT
            flexible = budgets[(contract, SubBudgetKind.FLEXIBLE)]
            for category, amount in FLEXIBLE_PLAN[slug].items():
                if contract.year < self.today.year and category != PlanCategory.RENT:
                    amount = amount * PREVIOUS_YEAR_FACTOR
                plan = _thousands(amount)
                lines.append(PlanLine(sub_budget=flexible, category=category, amount=plan))
                postings += self._postings(rng, flexible, category, plan, controller)
            __, cost = stationary_cost(
                stationary_rates([contract.region_id]), contract.first_day, contract.last_day
            )
            plan = self._stationary_plan(rng, float(cost), float(moved))
            lines.append(
                PlanLine(
                    sub_budget=budgets[(contract, SubBudgetKind.STATIONARY)],
                    category=PlanCategory.PLACEMENTS,
                    amount=plan,
                )
            )
        PlanLine.objects.bulk_create(lines)
        stamps = [
            Posting._meta.get_field("created_at"),
            Reallocation._meta.get_field("proposed_at"),
        ]
        with _own_timestamps(*stamps):
            Posting.objects.bulk_create(postings)
            Reallocation.objects.bulk_create(reallocations)
        return len(contracts), len(postings), len(reallocations)

    def _stationary_plan(self, rng, cost: float, moved: float) -> Decimal:
        """A plan the year's computed placements use 88-99 % of, before and after moving."""
        low_ratio, high_ratio = STATIONARY_UTILISATION
        low, high = cost / high_ratio + moved, cost / low_ratio
        return _thousands(rng.uniform(low, high) if low <= high else (low + high) / 2)

    def _postings(self, rng, sub_budget, category, plan: Decimal, by) -> list[Posting]:
        """Monthly costs of the flexible team up to the previous month, within the plan."""
        year = sub_budget.contract.year
        last_month = 12 if year < self.today.year else self.today.month - 1
        postings, booked = [], ZERO_EURO
        for month in range(1, last_month + 1):
            share = 1.0 if category == PlanCategory.RENT else rng.uniform(0.96, 1.02)
            amount = min(_money(float(plan) / 12 * share), plan - booked)
            if amount <= 0:
                break
            booked += amount
            month_end = datetime.date(year, month, 1) + relativedelta(months=1) - _days(1)
            postings.append(
                Posting(
                    sub_budget=sub_budget,
                    booked_on=month_end,
                    amount=amount,
                    category=category,
                    text=POSTING_TEXTS[category].format(month=f"{MONTH_NAMES[month - 1]} {year}"),
                    created_by=by,
                    created_at=self._at(
                        month_end + _days(rng.randint(3, 8)), rng.randint(9 * 60, 15 * 60)
                    ),
                )
            )
        return postings

    def _reallocation(self, rng, contract, controller, head) -> Reallocation:
        elapsed = (self.today - contract.first_day).days
        decided = self._at(contract.first_day + _days(int(elapsed * 0.6)), 11 * 60 + 30)
        return Reallocation(
            contract=contract,
            direction=Direction.TO_FLEXIBLE,
            amount=REALLOCATION_AMOUNT,
            reason=REALLOCATION_REASON,
            status=ReallocationStatus.APPROVED,
            proposed_by=controller,
            proposed_at=decided - datetime.timedelta(days=rng.randint(5, 12)),
            decided_by=head,
            decided_at=decided,
            decision_comment="Genehmigt; die Wirkung wird im nächsten Controllingworkshop geprüft.",
        )


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
        parser.add_argument(
            "--scale",
            choices=["demo", "city"],
            default="demo",
            help="demo: the Siegen scenario; city: the big-city data set (PostgreSQL only).",
        )
        parser.add_argument(
            "--fraction",
            type=float,
            default=1.0,
            help="With --scale city: scale every count by this factor (e.g. 0.001).",
        )

    def handle(self, *args, **options):
        if not settings.KIJUFAZ_ALLOW_DEMO_SEED and not options["force"]:
            raise CommandError(
                "Demo data is not allowed here (KIJUFAZ_ALLOW_DEMO_SEED is false). "
                "Use --force only on a database that may receive invented case data."
            )
        if options["scale"] == "city":
            self._seed_city(options["fraction"])
            return
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

    def _seed_city(self, fraction: float) -> None:
        from cases.city_seed import seed_city  # noqa: PLC0415  # only needed for this scale

        seed_city(fraction=fraction, write=self.stdout.write)

    def _print_logins(self, users: dict) -> None:
        self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD})")
        self.stdout.write(f"{'username':<16}{'role':<18}what they see")
        for username in PERSONAS:
            user = users[username]
            self.stdout.write(f"{username:<16}{user.role:<18}{_sees(user)}")
        others = [spec.username for spec in DEMO_USERS if spec.username not in PERSONAS]
        self.stdout.write(f"Further staff with the same password: {', '.join(others)}")
