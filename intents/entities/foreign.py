"""Dates, times, party sizes and option numbers in Portuguese, Spanish, French and German:
"sábado", "el 11 de diciembre", "dia 18", "demain", "am Samstag", "17h30", "um 17 Uhr",
"dos adultos y un niño", "deux adultes", "zwei Erwachsene und ein Kind", "nós os dois",
"a segunda opção".

The same rules as the English extractors (dates.py, party.py), with each language's words:
a weekday is the coming one (today if it is that day), "next"/"próximo"/"prochain"/
"nächsten" the one after; a day and month without a year is the next such day. Written
dates are read here with the language's month names rather than by dateparser, which is
slower and would guess across languages. English word patterns are not run on these
messages: "mar" is the sea in Portuguese and Spanish, not March.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from intents.entities import Entity, ParseContext
from intents.entities.dates import (
    ISO_RE,
    MAX_RANGE_DAYS,
    NUMERIC_RE,
    YEARS_AHEAD,
    _future,
    _next_day_of_month,
)
from intents.entities.party import EXPLICIT_PARTY, PLAUSIBLE_PARTY

_F = re.IGNORECASE
_ARTICLES = r"um|uma|un|une|una|ein|eine|einen|einem|einer"


@dataclass(frozen=True)
class Words:
    months: dict[str, int]
    weekdays: dict[str, int]
    numbers: dict[str, int]
    ordinals: dict[str, int]
    today: str  # alternatives, regex
    tomorrow: str
    after_tomorrow: str
    next_: str  # "next" before or after a weekday, regex
    this: str
    in_days: str  # "in N days": the number as group "n"
    day_prefix: str  # before a bare day of the month: "dia 18", "el 18", "le 18", "am 18."
    of: str  # between day and month: "11 de dezembro"
    weekend: str
    next_week: str
    this_week: str
    next_month: str
    this_month: str
    month_prefix: str  # "em março", "en marzo", "en mars", "im März"
    adults: str
    children: str
    people: str
    group: str  # "grupo de N": the number as group "n"
    we_are: str
    for_: str
    not_people: str  # what after "para 4" means it is not a party: days, hours, euros
    solo: str
    pair: str
    option: str  # "opção", "opción", "option", "Option"
    # "a próxima", "la más pronto", "la prochaine", "den nächsten Termin": the soonest of
    # the departures listed (option 1: lists go by date); said alone, at the end of the
    # message or before a "please" ("a próxima sexta", "la próxima vez" are not).
    soonest: str
    # "3 adultos e a nossa filha", "3 adultes et la petite": one child more, after a count
    # of adults ("and the kid" in English: intents/entities/party.PLUS_ONE_RE).
    plus_child: str
    # "2 adultes et ma mère", "2 adultos y mi madre": one adult more, after a count of adults.
    plus_adult: str
    # "..., donc 3", "então 3", "entonces 3", "also 3": the total said after the count, which
    # wins over the people counted before it.
    so_total: str
    time_words: str  # "às", "a las", "à", "um" before a time


def _numbers(*pairs: tuple[str, int]) -> dict[str, int]:
    return dict(pairs)


_PT = Words(
    months={
        "janeiro": 1,
        "jan": 1,
        "fevereiro": 2,
        "fev": 2,
        "março": 3,
        "marco": 3,
        "abril": 4,
        "abr": 4,
        "maio": 5,
        "junho": 6,
        "jun": 6,
        "julho": 7,
        "jul": 7,
        "agosto": 8,
        "ago": 8,
        "setembro": 9,
        "set": 9,
        "outubro": 10,
        "out": 10,
        "novembro": 11,
        "nov": 11,
        "dezembro": 12,
        "dez": 12,
    },
    weekdays={
        "segunda-feira": 0,
        "segunda": 0,
        "seg": 0,
        "terça-feira": 1,
        "terça": 1,
        "terca": 1,
        "ter": 1,
        "quarta-feira": 2,
        "quarta": 2,
        "qua": 2,
        "quinta-feira": 3,
        "quinta": 3,
        "qui": 3,
        "sexta-feira": 4,
        "sexta": 4,
        "sex": 4,
        "sábado": 5,
        "sabado": 5,
        "sab": 5,
        "domingo": 6,
        "dom": 6,
    },
    numbers=_numbers(
        ("um", 1),
        ("uma", 1),
        ("dois", 2),
        ("duas", 2),
        ("três", 3),
        ("tres", 3),
        ("quatro", 4),
        ("cinco", 5),
        ("seis", 6),
        ("sete", 7),
        ("oito", 8),
        ("nove", 9),
        ("dez", 10),
        ("onze", 11),
        ("doze", 12),
        ("quinze", 15),
        ("vinte", 20),
    ),
    ordinals={
        "primeiro": 1,
        "primeira": 1,
        "1º": 1,
        "1ª": 1,
        "segundo": 2,
        "segunda": 2,
        "2º": 2,
        "2ª": 2,
        "terceiro": 3,
        "terceira": 3,
        "3º": 3,
        "3ª": 3,
        "quarto": 4,
        "quarta": 4,
        "último": -1,
        "última": -1,
        "ultimo": -1,
        "ultima": -1,
    },
    today=r"hoje(?: [àa] noite| [àa] tarde| de manh[ãa])?|esta noite",
    tomorrow=r"amanh[ãa]|amnh",
    after_tomorrow=r"depois de amanh[ãa]",
    next_=r"pr[óo]xim[oa]|que vem",
    this=r"est[ea]|ess[ea]|n?este|n?esta",
    in_days=r"daqui a (?P<n>\w+) dias|dentro de (?P<n2>\w+) dias",
    day_prefix=r"(?:no )?dia",
    of=r"de",
    weekend=r"fim de semana|fds|fim-de-semana",
    next_week=r"(?:semana que vem|pr[óo]xima semana)",
    this_week=r"(?:esta semana)",
    next_month=r"(?:m[êe]s que vem|pr[óo]ximo m[êe]s)",
    this_month=r"(?:este m[êe]s)",
    month_prefix=r"em|no in[íi]cio de|no fim de|no final de|em meados de|para|durante",
    adults=r"adultos?",
    # "um garoto de 14": a child by the age said with them
    children=r"crian[çc]as?|mi[úu]dos?|filhos?|filhas?|beb[éêe]s?|putos?|menin[oa]s?|"
    r"(?:garot[oa]s?|adolescentes?|rapaz|rapariga)(?=\s+(?:de|com)\s+(?:1[0-7]|[1-9])\b)",
    people=r"pessoas?|pax|lugares|lugar|vagas?|bilhetes?",
    group=r"(?:grupo|fam[íi]lia) de (?P<n>\w+)",
    we_are=r"somos|seremos|vamos ser|vamos",
    for_=r"para|pra|p/",
    not_people=r"dias?|noites?|horas?|h\b|min|semanas?|meses|m[êe]s|anos?|€|euros?|%",
    solo=r"s[óo] eu|sou s[óo] eu|sozinh[oa]|vou s[óo]",
    pair=(
        r"n[óo]s (?:os|as) (?:dois|duas)|n[óo]s dois|n[óo]s duas|eu e (?:a |o )?(?:minha|meu) "
        r"(?:mulher|marido|namorad[ao]|esposa|companheir[ao]|amig[ao]|m[ãa]e|pai|filh[ao]|"
        r"irm[ãa]o?)|um casal|a dois"
    ),
    option=r"op[çc][ãa]o|n[úu]mero|n[ºo]",
    time_words=r"[àa]s|pelas|a partir das",
    plus_adult=r"\b(?:e|mais|\+)\s+(?:a\s+|o\s+)?(?:minha|meu|nossa|nosso)\s+(?:m[ãa]e|pai|marido|"
    r"esposa|esposo|mulher|namorad[ao]|amig[ao]|irm[ãa]o?|av[óôo]|sogr[ao])\b",
    so_total=r"ent[ãa]o|portanto|ou seja|no total|ao todo",
    plus_child=r"\b(?:e|mais|\+)\s+(?:a|o|uma|um)?\s*(?:nossa|nosso|minha|meu)?\s*(?:filha|filho|"
    r"menina|menino|crian[çc]a|beb[éêe]|pequena|pequeno|mi[úu]da|mi[úu]do)\b",
    soonest=r"\b(?:a|o)\s+(?:mais\s+)?(?:pr[oó]xim[ao]|cedo)(?:\s+(?:data|sa[ií]da|op[cç][aã]o|"
    r"dispon[ií]vel|hor[aá]rio|poss[ií]vel))?|\bo (?:mais )?(?:r[aá]pido|cedo) poss[ií]vel",
)

_ES = Words(
    months={
        "enero": 1,
        "ene": 1,
        "febrero": 2,
        "feb": 2,
        "marzo": 3,
        "abril": 4,
        "abr": 4,
        "mayo": 5,
        "junio": 6,
        "jun": 6,
        "julio": 7,
        "jul": 7,
        "agosto": 8,
        "ago": 8,
        "septiembre": 9,
        "setiembre": 9,
        "sept": 9,
        "sep": 9,
        "octubre": 10,
        "oct": 10,
        "noviembre": 11,
        "nov": 11,
        "diciembre": 12,
        "dic": 12,
    },
    weekdays={
        "lunes": 0,
        "lun": 0,
        "martes": 1,
        "mar": 1,
        "miércoles": 2,
        "miercoles": 2,
        "mié": 2,
        "mie": 2,
        "jueves": 3,
        "jue": 3,
        "viernes": 4,
        "vie": 4,
        "sábado": 5,
        "sabado": 5,
        "sáb": 5,
        "sab": 5,
        "domingo": 6,
        "dom": 6,
    },
    numbers=_numbers(
        ("un", 1),
        ("uno", 1),
        ("una", 1),
        ("dos", 2),
        ("tres", 3),
        ("cuatro", 4),
        ("cinco", 5),
        ("seis", 6),
        ("siete", 7),
        ("ocho", 8),
        ("nueve", 9),
        ("diez", 10),
        ("once", 11),
        ("doce", 12),
        ("quince", 15),
        ("veinte", 20),
    ),
    ordinals={
        "primero": 1,
        "primera": 1,
        "primer": 1,
        "1º": 1,
        "1ª": 1,
        "segundo": 2,
        "segunda": 2,
        "2º": 2,
        "2ª": 2,
        "tercero": 3,
        "tercera": 3,
        "tercer": 3,
        "3º": 3,
        "3ª": 3,
        "cuarto": 4,
        "cuarta": 4,
        "último": -1,
        "última": -1,
        "ultimo": -1,
        "ultima": -1,
    },
    today=r"hoy(?: por la (?:tarde|noche|mañana))?|esta (?:noche|tarde)",
    tomorrow=r"mañana|manana|mñn",
    after_tomorrow=r"pasado mañana|pasado manana",
    next_=r"pr[óo]xim[oa]|que viene",
    this=r"est[ea]|es[ea]",
    in_days=r"dentro de (?P<n>\w+) d[íi]as|en (?P<n2>\w+) d[íi]as",
    day_prefix=r"(?:el )?d[íi]a|el",
    of=r"de",
    weekend=r"fin de semana|finde|fin de",
    next_week=r"(?:semana que viene|pr[óo]xima semana)",
    this_week=r"(?:esta semana)",
    next_month=r"(?:mes que viene|pr[óo]ximo mes)",
    this_month=r"(?:este mes)",
    month_prefix=r"en|a principios de|a finales de|a mediados de|para|durante",
    adults=r"adultos?",
    # "un chico de 14": a child by the age said with them ("somos 4 chicos" are adults)
    children=r"ni[ñn][oa]s?|peques?|hij[oa]s?|beb[ée]s?|cr[íi]os?|menores|"
    r"(?:chic[oa]s?|chaval(?:es)?|adolescentes?)(?=\s+(?:de|con)\s+(?:1[0-7]|[1-9])\b)",
    people=r"personas?|pax|plazas?|entradas?|sitios?|billetes?",
    group=r"(?:grupo|familia) de (?P<n>\w+)",
    we_are=r"somos|seremos|vamos a ser|vamos",
    for_=r"para|pa",
    not_people=r"d[íi]as?|noches?|horas?|h\b|min|semanas?|mes(?:es)?|años?|€|euros?|%",
    solo=r"solo yo|s[óo]lo yo|yo sol[oa]|voy sol[oa]|sol[oa]s? yo",
    pair=(
        r"(?:nosotr[oa]s|los|las) dos|(?:mi (?:pareja|mujer|marido|novi[oa]|espos[oa]|amig[oa]|"
        r"madre|padre|hij[oa]|herman[oa]) y yo)|(?:yo y mi (?:pareja|mujer|marido|novi[oa]|"
        r"espos[oa]|amig[oa]|madre|padre|hij[oa]|herman[oa]))|una pareja|en pareja"
    ),
    option=r"opci[óo]n|n[úu]mero|n[ºo]",
    time_words=r"a las|sobre las|desde las",
    plus_adult=r"\b(?:y|m[aá]s|\+)\s+(?:mi|nuestra|nuestro)\s+(?:madre|mam[aá]|padre|pap[aá]|marido|"
    r"mujer|espos[oa]|novi[oa]|amig[oa]|herman[oa]|abuel[oa]|suegr[oa])\b",
    so_total=r"entonces|o sea|en total|as[ií] que",
    plus_child=r"\b(?:y|m[aá]s|\+)\s+(?:la|el|una|un|nuestra|nuestro|mi)\s+(?:hija|hijo|ni[ñn]a|"
    r"ni[ñn]o|nena|nene|beb[ée]|peque|peque[ñn]a|peque[ñn]o|chica|chico)\b",
    soonest=r"\b(?:la|el|lo)\s+(?:m[aá]s\s+)?(?:pr[oó]xim[ao]|cercan[ao]|temprano|pronto)(?:\s+"
    r"(?:fecha|salida|opci[oó]n|disponible|horario|posible))?|\blo antes posible",
)

_FR = Words(
    months={
        "janvier": 1,
        "janv": 1,
        "février": 2,
        "fevrier": 2,
        "févr": 2,
        "fevr": 2,
        "mars": 3,
        "avril": 4,
        "avr": 4,
        "mai": 5,
        "juin": 6,
        "juillet": 7,
        "juil": 7,
        "août": 8,
        "aout": 8,
        "septembre": 9,
        "sept": 9,
        "octobre": 10,
        "oct": 10,
        "novembre": 11,
        "nov": 11,
        "décembre": 12,
        "decembre": 12,
        "déc": 12,
        "dec": 12,
    },
    weekdays={
        "lundi": 0,
        "lun": 0,
        "mardi": 1,
        "mar": 1,
        "mercredi": 2,
        "mer": 2,
        "jeudi": 3,
        "jeu": 3,
        "vendredi": 4,
        "ven": 4,
        "vend": 4,
        "samedi": 5,
        "sam": 5,
        "dimanche": 6,
        "dim": 6,
    },
    numbers=_numbers(
        ("un", 1),
        ("une", 1),
        ("deux", 2),
        ("trois", 3),
        ("quatre", 4),
        ("cinq", 5),
        ("six", 6),
        ("sept", 7),
        ("huit", 8),
        ("neuf", 9),
        ("dix", 10),
        ("onze", 11),
        ("douze", 12),
        ("quinze", 15),
        ("vingt", 20),
    ),
    ordinals={
        "premier": 1,
        "première": 1,
        "premiere": 1,
        "1er": 1,
        "1re": 1,
        "deuxième": 2,
        "deuxieme": 2,
        "second": 2,
        "seconde": 2,
        "2e": 2,
        "2ème": 2,
        "troisième": 3,
        "troisieme": 3,
        "3e": 3,
        "3ème": 3,
        "quatrième": 4,
        "dernier": -1,
        "dernière": -1,
        "derniere": -1,
    },
    today=r"aujourd'hui|aujourdhui|ce soir|cet apr[èe]s-midi|ce matin",
    tomorrow=r"demain|dmn",
    after_tomorrow=r"apr[èe]s-demain|apr[èe]s demain",
    next_=r"prochaine?",
    this=r"ce|cette",
    in_days=r"dans (?P<n>\w+) jours",
    day_prefix=r"le",
    of=r"",
    weekend=r"week-end|weekend|we\b",
    next_week=r"(?:semaine prochaine|la semaine pro)",
    this_week=r"(?:cette semaine)",
    next_month=r"(?:mois prochain)",
    this_month=r"(?:ce mois-ci|ce mois)",
    month_prefix=r"en|d[ée]but|fin|mi|courant|pour|au mois de",
    adults=r"adultes?",
    # "un garçon de 14 ans": a child by the age said with them
    children=r"enfants?|gamins?|petits?|b[ée]b[ée]s?|ados?|mineurs?|gosses?|"
    r"(?:gar[çc]ons?|filles?|adolescents?)(?=\s+de\s+(?:1[0-7]|[1-9])\s+ans\b)",
    people=r"personnes?|pers|pax|places?|billets?|participants?",
    group=r"(?:groupe|famille) de (?P<n>\w+)",
    we_are=r"nous sommes|nous serons|on est|on sera|on sera environ",
    for_=r"pour|pr",
    not_people=r"jours?|nuits?|heures?|h\b|min|semaines?|mois|ans?|€|euros?|%",
    solo=r"juste moi|que moi|moi seule?|seule?|tout seul|toute seule",
    pair=(
        r"nous deux|tous les deux|toutes les deux|(?:ma|mon) (?:femme|mari|copine|copain|"
        r"compagne|compagnon|conjointe?|ami|amie|m[èe]re|p[èe]re|fils|fille|s[œo]e?ur|fr[èe]re) "
        r"et moi|moi et (?:ma|mon) (?:femme|mari|copine|copain|compagne|compagnon|conjointe?|"
        r"ami|amie|m[èe]re|p[èe]re|fils|fille|s[œo]e?ur|fr[èe]re)|un couple|en couple|[àa] deux"
    ),
    option=r"option|num[ée]ro|n°|no",
    time_words=r"[àa]|vers|[àa] partir de",
    plus_adult=r"\b(?:et|plus|\+)\s+(?:ma|mon|notre)\s+(?:m[èe]re|p[èe]re|mari|femme|copain|copine|"
    r"ami|amie|s[œo]e?ur|fr[èe]re|grand-m[èe]re|grand-p[èe]re|belle-m[èe]re|beau-p[èe]re)\b",
    so_total=r"donc|soit|en tout|au total|ce qui fait",
    plus_child=r"\b(?:et|plus|\+)\s+(?:la|le|l'|une|un|notre|ma|mon)\s*(?:fille|fils|petite|petit|"
    r"enfant|b[ée]b[ée]|gamine|gamin)\b",
    soonest=r"\b(?:la|le)\s+(?:plus\s+)?(?:prochaine?|proche|t[oô]t)(?:\s+(?:date|d[ée]part|"
    r"option|disponible|cr[ée]neau|possible))?|\bau plus t[oô]t",
)

_DE = Words(
    months={
        "januar": 1,
        "jan": 1,
        "jänner": 1,
        "februar": 2,
        "feb": 2,
        "märz": 3,
        "maerz": 3,
        "marz": 3,
        "mär": 3,
        "april": 4,
        "apr": 4,
        "mai": 5,
        "juni": 6,
        "jun": 6,
        "juli": 7,
        "jul": 7,
        "august": 8,
        "aug": 8,
        "september": 9,
        "sept": 9,
        "sep": 9,
        "oktober": 10,
        "okt": 10,
        "november": 11,
        "nov": 11,
        "dezember": 12,
        "dez": 12,
    },
    weekdays={
        "montag": 0,
        "mo": 0,
        "dienstag": 1,
        "di": 1,
        "mittwoch": 2,
        "mi": 2,
        "donnerstag": 3,
        "do": 3,
        "freitag": 4,
        "fr": 4,
        "samstag": 5,
        "sonnabend": 5,
        "sa": 5,
        "sonntag": 6,
        "so": 6,
    },
    numbers=_numbers(
        ("ein", 1),
        ("eine", 1),
        ("einem", 1),
        ("einer", 1),
        ("einen", 1),
        ("zwei", 2),
        ("drei", 3),
        ("vier", 4),
        ("fünf", 5),
        ("fuenf", 5),
        ("funf", 5),
        ("sechs", 6),
        ("sieben", 7),
        ("acht", 8),
        ("neun", 9),
        ("zehn", 10),
        ("elf", 11),
        ("zwölf", 12),
        ("zwoelf", 12),
        ("fünfzehn", 15),
        ("zwanzig", 20),
    ),
    ordinals={
        "erste": 1,
        "ersten": 1,
        "erster": 1,
        "erstes": 1,
        "1.": 1,
        "zweite": 2,
        "zweiten": 2,
        "zweiter": 2,
        "zweites": 2,
        "2.": 2,
        "dritte": 3,
        "dritten": 3,
        "dritter": 3,
        "drittes": 3,
        "3.": 3,
        "vierte": 4,
        "letzte": -1,
        "letzten": -1,
        "letzter": -1,
    },
    today=r"heute(?: abend| nachmittag| morgen| früh)?",
    tomorrow=r"morgen|morgn",
    after_tomorrow=r"übermorgen|uebermorgen",
    next_=r"n[äa]chste[nrsm]?|kommende[nrsm]?",
    this=r"diese[nrsm]?",
    in_days=r"in (?P<n>\w+) tagen",
    day_prefix=r"am|den",
    of=r"",
    weekend=r"wochenende|we\b",
    next_week=r"(?:n[äa]chste[nr]? woche|kommende[nr]? woche)",
    this_week=r"(?:diese[nr]? woche)",
    next_month=r"(?:n[äa]chste[nr]? monat|kommende[nr]? monat)",
    this_month=r"(?:diese[nr]? monat)",
    month_prefix=r"im|anfang|ende|mitte|für|fuer|in",
    adults=r"erwachsene[nr]?",
    children=r"kinder[n]?|kind|kids|babys?|kleinkind(?:er)?|jugendliche[n]?|teenager",
    people=r"personen|person|pers|pax|pl[äa]tze|platz|leute|tickets?|teilnehmer",
    group=r"(?:gruppe von|familie mit|gruppe mit) (?P<n>\w+)",
    we_are=r"wir sind|wir w[äa]ren|wir kommen mit|wir kommen zu",
    for_=r"f[üu]r|fuer",
    not_people=r"tage?n?|n[äa]chte|stunden?|std|h\b|min|wochen?|monate?|jahre?|€|euro|%|uhr",
    solo=r"nur ich|ich allein|ich alleine|allein|alleine",
    pair=(
        r"(?:wir|uns) (?:zwei|beide|beiden)|zu zweit|(?:meine|mein) (?:frau|mann|freundin|freund|"
        r"partnerin|partner|mutter|vater|tochter|sohn|schwester|bruder) und ich|"
        r"ich und (?:meine|mein) (?:frau|mann|freundin|freund|partnerin|partner|mutter|vater|"
        r"tochter|sohn|schwester|bruder)|ein p[äa]rchen"
    ),
    option=r"option|nummer|nr",
    time_words=r"um|ab|gegen",
    plus_adult=r"\b(?:und|plus|\+)\s+(?:meine|mein|unsere|unser)\s+(?:mutter|mama|vater|papa|mann|"
    r"frau|freundin|freund|schwester|bruder|oma|opa|schwiegermutter|schwiegervater)\b",
    so_total=r"also|insgesamt",
    plus_child=r"\b(?:und|plus|\+)\s+(?:die|der|das|eine|ein|unsere|unser|meine|mein)\s+(?:tochter|"
    r"sohn|kleine|kleiner|kind|baby|m[äa]dchen|junge)\b",
    soonest=r"\b(?:n[aä]chstm[oö]glich\w*|fr[uü]hestm[oö]glich\w*|(?:den|der|die|das)\s+"
    r"(?:n[aä]chst|naechst|fr[uü]hest|fruehest)(?:e[nrs]?)?)(?:\s+(?:termin|datum|tour|abfahrt|"
    r"option))?",
)

WORDS = {"pt": _PT, "es": _ES, "fr": _FR, "de": _DE}
# "zu dritt" (three of us), "à trois"
_DE_GROUPS = {"zweit": 2, "dritt": 3, "viert": 4, "fünft": 5, "fuenft": 5, "sechst": 6}


def _alt(words: dict[str, int]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


@dataclass(frozen=True)
class Patterns:
    words: Words
    number: str
    day_month: re.Pattern[str]
    day_only: re.Pattern[str]
    relative: re.Pattern[str]
    in_days: re.Pattern[str]
    weekday: re.Pattern[str]
    weekday_after: re.Pattern[str]
    weekend: re.Pattern[str]
    week: re.Pattern[str]
    days_month: re.Pattern[str]
    month_only: re.Pattern[str]
    month_relative: re.Pattern[str]
    time: re.Pattern[str]
    adults: re.Pattern[str]
    children: re.Pattern[str]
    people: re.Pattern[str]
    group: re.Pattern[str]
    we_are: re.Pattern[str]
    for_: re.Pattern[str]
    solo: re.Pattern[str]
    pair: re.Pattern[str]
    zu: re.Pattern[str]
    plus_child: re.Pattern[str]
    plus_adult: re.Pattern[str]
    so_total: re.Pattern[str]
    option: re.Pattern[str]
    soonest: re.Pattern[str]


@cache
def patterns(language: str) -> Patterns | None:
    w = WORDS.get(language)
    if w is None:
        return None
    number = rf"(?:\d{{1,3}}|{_alt(w.numbers)})"
    month = rf"(?:{_alt(w.months)})"
    weekday = rf"(?:{_alt(w.weekdays)})"
    of = rf"(?:\s+{w.of})?" if w.of else ""
    year = rf"(?:,?\s+(?:{w.of}\s+)?(\d{{4}}))?" if w.of else r"(?:,?\s+(\d{4}))?"
    day = r"(\d{1,2})(?:º|ª|er|\.|st|nd|rd|th)?"
    return Patterns(
        words=w,
        number=number,
        day_month=re.compile(rf"\b{day}{of}\s+({month})\b\.?{year}", _F),
        day_only=re.compile(
            rf"\b(?:{w.day_prefix})\s+(\d{{1,2}})(?:º|er|\.)?(?!\s*(?:[:.h]\d|{w.people}|"
            rf"{w.adults}|{w.children}|{w.not_people}|[/.-]\d))(?=\W|$)",
            _F,
        ),
        relative=re.compile(rf"\b(?:({w.after_tomorrow})|({w.tomorrow})|({w.today}))(?![\w-])", _F),
        in_days=re.compile(rf"\b(?:{w.in_days})", _F),
        weekday=re.compile(
            rf"\b(?:({w.next_}|{w.this})\s+)?({weekday})\b\.?(?:\s+({w.next_})\b)?", _F
        ),
        weekday_after=re.compile(rf"\b({weekday})\s+({w.next_})\b", _F),
        weekend=re.compile(
            rf"\b(?:({w.next_}|{w.this})\s+)?(?:{w.weekend})(?:\s+({w.next_}))?\b", _F
        ),
        week=re.compile(rf"\b({w.next_week}|{w.this_week})\b", _F),
        days_month=re.compile(
            rf"\b(\d{{1,2}})(?:º|er|\.)?\s*(?:-|–|a|al|au|à|bis|e|y|et|und)\s*"
            rf"(\d{{1,2}})(?:º|er|\.)?{of}\s+({month})\b\.?{year}",
            _F,
        ),
        month_only=re.compile(rf"\b(?:({w.month_prefix})\s+)?({month})\b\.?(?:\s+(\d{{4}}))?", _F),
        month_relative=re.compile(rf"\b({w.next_month}|{w.this_month})\b", _F),
        time=re.compile(
            rf"\b(?:(?:{w.time_words})\s+)?(\d{{1,2}})\s*(?:h|uhr)\s*(\d{{2}})?\b"
            rf"|\b(?:{w.time_words})\s+(\d{{1,2}})\b(?!\s*(?:{w.people}|{w.not_people}))"
            rf"|\b([01]?\d|2[0-3])[:h]([0-5]\d)\b",
            _F,
        ),
        adults=re.compile(rf"\b({number})\s*(?:x\s*)?(?:{w.adults})\b", _F),
        children=re.compile(rf"\b({number})\s*(?:x\s*)?(?:{w.children})\b", _F),
        # "une place se libère", "ein Platz frei": an article, not a count of people.
        people=re.compile(rf"\b((?!(?:{_ARTICLES})\b){number})\s*(?:x\s*)?(?:{w.people})\b", _F),
        group=re.compile(rf"\b{w.group}\b", _F),
        we_are=re.compile(  # not "somos dos adultos y un niño": those are counted apart
            rf"\b(?:{w.we_are})\s+(?:em\s+|unos\s+|environ\s+|zu\s+)?({number})\b"
            rf"(?!\s*(?:x\s*)?(?:{w.adults}|{w.children})\b)",
            _F,
        ),
        for_=re.compile(rf"\b(?:{w.for_})\s+({number})\b(?!\s*(?:{w.not_people}|:|\.\d))", _F),
        solo=re.compile(rf"\b(?:{w.solo})\b", _F),
        pair=re.compile(rf"\b(?:{w.pair})\b", _F),
        zu=re.compile(r"\bzu (zweit|dritt|viert|fünft|fuenft|sechst)\b", _F),
        plus_child=re.compile(w.plus_child, _F),
        plus_adult=re.compile(w.plus_adult, _F),
        so_total=re.compile(
            rf"(?:^|[,;.]\s*|\s)(?:{w.so_total})\s*,?\s*(?:{w.we_are}\s+)?({number})\b"
            rf"(?!\s*(?:x\s*)?(?:{w.adults}|{w.children}|{w.not_people})\b|\s*[:h.]\d|\.?\s*{of}\s*{month})",
            _F,
        ),
        option=re.compile(
            rf"^\s*(?:(?:le|la|el|o|a|die|der|das)\s+)?(?:(?:{w.option})\s*)?(\d{{1,2}})\s*"
            rf"(?:[.)!]|por favor|pf|porfa|svp|stp|bitte)?\s*$"
            rf"|\b(?:{w.option})\s*(\d{{1,2}})\b"
            rf"|\b(?:a|o|la|le|el|die|der|das)\s+(\d)\W*$"
            rf"|\b({_alt(w.ordinals)})(?=\W|$)",
            _F,
        ),
        soonest=re.compile(
            rf"(?:{w.soonest})(?=\s*(?:por favor|porfa|pf|pfv|svp|stp|bitte)?\s*[.!?,]*\s*$)", _F
        ),
    )


def _int(p: Patterns, text: str) -> int:
    text = text.strip().lower()
    return int(text) if text.isdigit() else p.words.numbers[text]


def _weekday(today: date, weekday: int, later: bool) -> date:
    coming = today + timedelta(days=(weekday - today.weekday()) % 7)
    return coming + timedelta(days=7) if later else coming


def _is_next(p: Patterns, word: str | None) -> bool:
    return bool(word) and re.fullmatch(p.words.next_, word or "", _F) is not None


# Portuguese weekdays that are also ordinals ("a segunda" is the second): only with -feira.
_ORDINAL_WEEKDAYS = frozenset({"segunda", "terca", "terça", "quarta", "quinta", "sexta"})


@cache
def _weekday_any_language() -> tuple[re.Pattern[str], dict[str, int]]:
    names = {
        word: number
        for words in WORDS.values()
        for word, number in words.weekdays.items()
        if len(word) >= 5 and word not in _ORDINAL_WEEKDAYS
    }
    return re.compile(rf"\b({_alt(names)})\b", _F), names


def weekday_in_any_language(text: str, ctx: ParseContext) -> list[Entity]:
    """ "el domingo", "samedi" from a customer whose language is not known yet (read as
    English): the coming such day, by the full name of a weekday in any of the languages."""
    pattern, names = _weekday_any_language()
    m = pattern.search(text)
    if m is None:
        return []
    day = _weekday(ctx.now.date(), names[m.group(1).lower()], later=False)
    return [Entity("date", day.isoformat(), m.start(), m.end())]


def extract_dates(text: str, ctx: ParseContext, p: Patterns) -> list[Entity]:
    today = ctx.now.date()
    found: list[Entity] = []

    def add(value: date | None, start: int, end: int) -> None:
        if value is not None and not any(e.start < end and start < e.end for e in found):
            found.append(Entity("date", value.isoformat(), start, end))

    for m in p.day_month.finditer(text):
        year = int(m.group(3)) if m.group(3) else None
        add(
            _future(int(m.group(1)), p.words.months[m.group(2).lower()], year, today),
            m.start(),
            m.end(),
        )
    for m in p.relative.finditer(text):
        offset = 2 if m.group(1) else 1 if m.group(2) else 0
        add(today + timedelta(days=offset), m.start(), m.end())
    for m in p.in_days.finditer(text):
        n = next((g for g in m.groups() if g), "")
        if n.isdigit() or n.lower() in p.words.numbers:
            add(today + timedelta(days=_int(p, n)), m.start(), m.end())
    ordinal_reply = _ORDINAL_REPLY.match(text) is not None
    for m in p.weekday.finditer(text):
        if ordinal_reply:
            break  # "a segunda": the second option, not Monday
        word = m.group(2).lower()
        if len(word) <= 3 and not (m.group(1) or m.group(3)) and language_short_day_is_word(word):
            continue
        later = _is_next(p, m.group(1)) or _is_next(p, m.group(3))
        add(_weekday(today, p.words.weekdays[word], later), m.start(), m.end())
    for m in ISO_RE.finditer(text):
        add(_future(int(m.group(3)), int(m.group(2)), int(m.group(1)), today), m.start(), m.end())
    for m in NUMERIC_RE.finditer(text):
        first, second = int(m.group(1)), int(m.group(2))
        day, month = (second, first) if ctx.date_order == "MDY" else (first, second)
        if 1 <= month <= 12:
            year = int(m.group(3)) if m.group(3) else None
            add(_future(day, month, year, today), m.start(), m.end())
    for m in _DOTTED_RE.finditer(text):
        add(_future(int(m.group(1)), int(m.group(2)), None, today), m.start(), m.end())
    if _OPTION_REPLY.match(text):
        return found  # "le 2", "el 3": an option from a list, not a day of the month
    for m in p.day_only.finditer(text):
        add(_next_day_of_month(int(m.group(1)), today), m.start(), m.end())
    return found


_ORDINAL_REPLY = re.compile(
    r"^\s*(?:a|o|la|el)?\s*(?:segunda|quarta|terceira|primeira)\s*"
    r"(?:op[çc][ãa]o|por favor|pf)?\W*$",
    _F,
)
# "24.12." as Germans write a date.
_DOTTED_RE = re.compile(r"(?<![\d/.:])(\d{1,2})\.(\d{1,2})\.(?!\d)")
_OPTION_REPLY = re.compile(r"^\s*(?:le|la|el|o|a|die|der|das)\s+[1-5]\W*$", _F)


# Short weekday forms that are everyday words ("do", "so", "mi", "sa", "mar", "set", "sex",
# "dom", "ven"): only with "next"/"this" in front, or a full stop after them in German.
_AMBIGUOUS_SHORT = frozenset(
    {
        "mo",
        "di",
        "mi",
        "do",
        "fr",
        "sa",
        "so",
        "mar",
        "qua",
        "qui",
        "ter",
        "sex",
        "seg",
        "dom",
        "ven",
        "sam",
        "mer",
        "jeu",
        "lun",
        "dim",
        "vie",
        "mie",
        "jue",
        "sab",
        "sáb",
    }
)


def language_short_day_is_word(word: str) -> bool:
    return word in _AMBIGUOUS_SHORT


def extract_date_range(text: str, ctx: ParseContext, p: Patterns) -> list[Entity]:
    today = ctx.now.date()

    def span(first: date | None, last: date | None, start: int, end: int) -> list[Entity]:
        if first is None or last is None or not 0 <= (last - first).days <= MAX_RANGE_DAYS:
            return []
        return [Entity("date_range", f"{first.isoformat()}/{last.isoformat()}", start, end)]

    if m := p.days_month.search(text):
        month = p.words.months[m.group(3).lower()]
        year = int(m.group(4)) if m.group(4) else None
        return span(
            _future(int(m.group(1)), month, year, today),
            _future(int(m.group(2)), month, year, today),
            m.start(),
            m.end(),
        )
    if m := p.weekend.search(text):
        saturday = _weekday(today, 5, _is_next(p, m.group(1)) or _is_next(p, m.group(2)))
        return span(saturday, saturday + timedelta(days=1), m.start(), m.end())
    if m := p.week.search(text):
        monday = today - timedelta(days=today.weekday())
        if re.fullmatch(p.words.next_week, m.group(1), _F):
            monday += timedelta(days=7)
        return span(max(monday, today), monday + timedelta(days=6), m.start(), m.end())
    return []


def extract_month(text: str, ctx: ParseContext, p: Patterns, dates: list[Entity]) -> list[Entity]:
    if dates:
        return []
    today = ctx.now.date()
    for m in p.month_only.finditer(text):
        word = m.group(2).lower()
        # Short or everyday forms ("mar", "set", "out", "mai" in French is also May) need a
        # preposition or a year.
        if (len(word) <= 4 or word in ("mayo", "marco")) and not (m.group(1) or m.group(3)):
            continue
        month = p.words.months[word]
        year = (
            int(m.group(3))
            if m.group(3)
            else (today.year if month >= today.month else today.year + 1)
        )
        if year > today.year + YEARS_AHEAD:
            continue
        return [
            Entity(
                "month", f"{year:04d}-{month:02d}", m.start(2), m.end(3) if m.group(3) else m.end(2)
            )
        ]
    if relative := p.month_relative.search(text):
        first = today.replace(day=1)
        if re.fullmatch(p.words.next_month, relative.group(1), _F):
            first = (first + timedelta(days=32)).replace(day=1)
        return [Entity("month", f"{first:%Y-%m}", relative.start(), relative.end())]
    return []


def extract_time(text: str, p: Patterns) -> list[Entity]:
    m = p.time.search(text)
    if not m:
        return []
    if m.group(1):
        hours, minutes = int(m.group(1)), int(m.group(2) or 0)
        if hours < 6 and m.group(2) is None and m.start() == m.start(1):
            return []  # "2h" alone is a duration more often than a time
    elif m.group(3):
        hours, minutes = int(m.group(3)), 0
        if hours < 8:  # "a las 5", "às 5": the afternoon, as tours run
            hours += 12
    else:
        hours, minutes = int(m.group(4)), int(m.group(5))
    if hours > 23 or minutes > 59:
        return []
    return [Entity("time", f"{hours:02d}:{minutes:02d}", m.start(), m.end())]


def extract_party(text: str, p: Patterns) -> list[Entity]:
    found: list[Entity] = []
    adults = p.adults.search(text)
    children = p.children.search(text)
    if adults:
        counted = _int(p, adults.group(1))
        if plus_adult := p.plus_adult.search(text, adults.end()):  # "2 adultes et ma mère"
            found.append(Entity("adults", counted + 1, adults.start(1), plus_adult.end()))
        else:
            found.append(Entity("adults", counted, adults.start(1), adults.end(1)))
    if children:
        found.append(
            Entity("children", _int(p, children.group(1)), children.start(1), children.end(1))
        )
    total, ambiguous = None, False
    for pattern in (p.people, p.group, p.we_are):
        match = pattern.search(text)
        if match:
            raw = match.group(1) if pattern is not p.group else (match.group("n"))
            if not (raw.isdigit() or raw.lower() in p.words.numbers):
                continue
            start = match.start(1) if pattern is not p.group else match.start("n")
            end = match.end(1) if pattern is not p.group else match.end("n")
            total = Entity("party_size", _int(p, raw), start, end)
            ambiguous = pattern is p.we_are
            break
    if so := p.so_total.search(text):  # "..., donc 3": the total said wins
        total, ambiguous = Entity("party_size", _int(p, so.group(1)), so.start(1), so.end(1)), False
    plus_child = p.plus_child.search(text, adults.end()) if adults and not children else None
    if plus_child:  # "3 adultos y la niña": the child said, not counted
        found.append(Entity("children", 1, plus_child.start(), plus_child.end()))
    if total is None and (adults or children or plus_child):
        value = sum(int(e.value) for e in found)
        total = Entity("party_size", value, min(e.start for e in found), max(e.end for e in found))
    if total is None:
        ambiguous = True
        if match := p.zu.search(text):
            total = Entity(
                "party_size", _DE_GROUPS[match.group(1).lower()], match.start(), match.end()
            )
        elif match := p.pair.search(text):
            # Before "just me": "só eu e minha esposa", "solo yo y mi novia" are two.
            total = Entity("party_size", 2, match.start(), match.end())
        elif match := p.solo.search(text):
            total = Entity("party_size", 1, match.start(), match.end())
        elif match := p.for_.search(text):
            total = Entity("party_size", _int(p, match.group(1)), match.start(1), match.end(1))
    if total is not None:
        found.append(total)
    limit = PLAUSIBLE_PARTY if ambiguous else EXPLICIT_PARTY
    return [e for e in found if 0 < int(e.value) <= limit]


def extract_option(text: str, p: Patterns) -> list[Entity]:
    m = p.option.search(text)
    if not m:
        return []
    for group in (1, 2, 3):
        if m.group(group):
            value = int(m.group(group))
            return (
                [Entity("option", value, m.start(group), m.end(group))] if 0 < value <= 20 else []
            )
    return [Entity("option", p.words.ordinals[m.group(4).lower()], m.start(4), m.end(4))]


def extract_soonest(text: str, p: Patterns) -> list[Entity]:
    """ "a próxima data", "den nächsten Termin": option 1, the soonest listed."""
    m = p.soonest.search(text)
    return [Entity("option", 1, m.start(), m.end())] if m else []
