"""Party sizes: "2 adults and 2 kids", "family of four", "3 pax", "just me", "for 3", and
the way people count themselves in: "me and 2 friends" (3), "my wife and I" (2), "two
couples" (4), "me, my husband and our 3 kids" (2 adults, 3 children), "just the kids and
me" (one adult, the children not yet counted: party_incomplete), children's ages ("kids
aged 5 and 8", "a 6 year old")."""

from __future__ import annotations

import re

from intents.entities import Entity
from intents.entities.numbers import NUMBER, WORDS, to_int

ADULTS = r"(?:adults?|adlts?|grown[- ]?ups?|grownups)"
CHILDREN = (
    r"(?:kids?|children|child|childs|kiddos?|little ones|toddlers?|teens?|teenagers?|"
    r"minors?|infants?)"
)
PEOPLE = (
    r"(?:people|persons?|pax|guests?|travell?ers|ppl|peeps|folks|pple|participants|"
    r"hikers|trekkers|friends|members|adults and kids|of us|spots?|seats?|places?|tickets?|spaces?)"
)

PLAUSIBLE_PARTY = 99  # "for 15", "we are 4"
EXPLICIT_PARTY = 9999  # "250 people", "a group of 120"

_F = re.IGNORECASE
ADULT_RE = re.compile(rf"\b({NUMBER})\s*(?:x\s*)?{ADULTS}\b", _F)
CHILD_RE = re.compile(rf"\b({NUMBER})\s*(?:x\s*)?{CHILDREN}\b", _F)
# "and a child", "plus an infant": one, in words that are not a number.
ONE_CHILD_RE = re.compile(
    r"\b(?:a|an)\s+(?:kid|child|toddler|infant|baby|teen|teenager|little one)\b", _F
)
# "one of us is gluten free" names a person in the party, never a party of one.
PEOPLE_RE = re.compile(rf"\b(?!(?:one|1)\s+of\s+us\b)({NUMBER})\s*(?:x\s*)?{PEOPLE}\b", _F)
GROUP_RE = re.compile(
    rf"\b(?:group|party|family|team|table|crew|total)\s+(?:of|for)\s+({NUMBER})\b", _F
)
WE_ARE_RE = re.compile(
    rf"\b(?:we\s*are|we're|were|we\s+r|there\s*(?:is|are|'s)|theres)\s+({NUMBER})\b", _F
)
FOR_RE = re.compile(
    rf"\bfor\s+({NUMBER})\b(?!\s*(?:days?|nights?|hours?|hrs?|h\b|mins?|minutes?|weeks?|months?|"
    rf"years?|yrs?|am|pm|o'?clock|:|\.\d|%|\$|usd|dollars?|st\b|nd\b|rd\b|th\b))",
    _F,
)
SOLO_RE = re.compile(
    r"\b(?:just|only)\s+(?:me|myself|1|one)\b(?!\s*(?:and|&|\+|with)\b)|\b(?:by myself|"
    r"on my own|solo|alone|party of one)\b",
    _F,
)
PAIR_RE = re.compile(
    r"\b(?:a couple|the two of us|both of us|two of us|the 2 of us|us two|we two)\b", _F
)
COUPLES_RE = re.compile(rf"\b({NUMBER})\s+couples\b", _F)

# --- counting oneself in: "me and 2 friends", "my wife and I" ---------------------------

# The writer, in a list of people: "me and", "and me", "and I", "myself +", "me, my wife".
SELF_RE = re.compile(
    r"\b(?:me|myself)\s*(?:and|&|\+|,|with|n|plus)\s|\b(?:and|&|\+|with|plus|n)\s+(?:me|myself|i)\b"
    r"|\bme\s*\+\s*\d|\bi\s+and\s+(?:my|our)\b"
    # "can we do rafting w my 2 boys", "I'd like to come with my wife": they come too.
    # Not "while I check with my husband".
    r"|\b(?:we|i|i'd|id|i'll|ill)\b[^.?!]{0,60}?"
    r"(?<!check)(?<!talk)(?<!speak)(?<!chat)(?<!consult)(?<!discuss)(?<!confirm)(?<!ask)"
    r"\s(?P<with>(?:with|w/?)\s+(?:my|our)\s)",
    _F,
)
ADULT_ONE = (
    r"(?:wife|husband|hubby|partner|girlfriend|gf|boyfriend|bf|fianc[eé]e?|friend|bestie|mate|"
    r"buddy|pal|mom|mum|mommy|mother|dad|daddy|father|brother|bro|sister|sis|cousin|colleague|"
    r"co-?worker|spouse|other half|missus|wifey|grandma|grandpa|grandmother|grandfather|nan|"
    r"granny|uncle|aunt|auntie|niece|nephew|boss|roommate|flatmate|room-?mate|girl ?friend|"
    r"boy ?friend|mother[- ]in[- ]law|father[- ]in[- ]law|sister[- ]in[- ]law|brother[- ]in[- ]law)"
)
CHILD_ONE = r"(?:son|daughter|kid|child|boy|girl|baby|toddler|little one|stepson|stepdaughter)"
ADULT_MANY = (
    r"(?:friends|mates|buddies|pals|colleagues|co-?workers|others|guys|girls|ladies|lads|"
    r"(?:other|more)\s+(?:people|persons|adults)|more|cousins|brothers|sisters|"
    r"sisters?[- ]in[- ]law|brothers?[- ]in[- ]law|uncles|aunts|aunties|family members|relatives)"
)
CHILD_MANY = (
    r"(?:kids|children|sons|daughters|boys|little ones|toddlers|babies|grandkids|"
    r"grandchildren|teens|teenagers|kiddos|nieces|nephews)"
)
PAIRS = r"(?:parents|grandparents|in-?laws|folks)"  # two people, said as one word
DET = r"(?:my|our|the|his|her|their|a|an|two|2)"
COMPANION_RE = re.compile(
    rf"\b({NUMBER})\s+(?:of\s+(?:my|our)\s+)?(?:(?:little|young|grown[- ]?up|adult|teenage)\s+)?"
    rf"({ADULT_MANY}|{CHILD_MANY}|couples)\b"
    rf"|\b(?:my|our|the|his|her|their)\s+(?:(?:little|young|teenage)\s+)?({CHILD_MANY})\b"
    rf"|\b(?:my|our|his|her|their)\s+({PAIRS})\b"
    rf"|\b(?:my|our|the|his|her|a|an)\s+(?:(?:little|young|best|teenage|\d{{1,2}}[- ]?(?:yo|y/?o|"
    rf"year[- ]old))\s+)?({CHILD_ONE}|{ADULT_ONE})\b",
    _F,
)
# "4 of us plus my mum", "3 people and a baby": one more after a count.
PLUS_ONE_RE = re.compile(
    rf"^[^.?!]{{0,20}}?(?:\bplus|\+|\band|&)\s+(?:also\s+)?(?:my|our|a|an|the|his|her)\s+"
    rf"(?:(?:little|young|best|old)\s+)?({CHILD_ONE}|{ADULT_ONE})\b",
    _F,
)
# "me + 2": the others, not said who.
ME_PLUS_RE = re.compile(rf"\b(?:me|myself)\s*(?:\+|plus)\s*({NUMBER})\b(?!\s*\w)", _F)
_CHILD_ONE_RE = re.compile(rf"^{CHILD_ONE}$", _F)
_CHILD_MANY_RE = re.compile(rf"^{CHILD_MANY}$", _F)

# --- children's ages ---------------------------------------------------------------------

AGES = r"\d{1,2}(?:\s*(?:,|and|&|/)\s*\d{1,2})*"
AGE_RES = (
    # "kids aged 5 and 8", "ages 4, 7", "age 6"
    re.compile(rf"\b(?:aged?|ages)\s+({AGES})\b", _F),
    # "5 and 8 years old", "a 6-year-old", "6 yo", "9yrs"
    re.compile(
        rf"\b({AGES})\s*[- ]?\s*(?:years?|yrs?|y)[- ]?\s*olds?\b|\b(\d{{1,2}})\s*(?:yo|y/o)\b", _F
    ),
    # "2 kids (5 and 8)", "my son (7)"
    re.compile(
        rf"\b{CHILDREN}\s*\(\s*({AGES})\s*\)|\b(?:son|daughter|boy|girl)\s*\(\s*(\d{{1,2}})\s*\)",
        _F,
    ),
    # "my son is 7", "the kids are 5 and 9", "they're 6 and 9"
    re.compile(
        rf"\b(?:son|daughter|boy|girl|kids?|children|child|she|he|they|theyre|they\s+re)"
        rf"\s*(?:is|are|'s|'re|(?<=re))\s+"
        rf"({AGES})\b"
        rf"(?!\s*(?:people|pax|adults?|of|:|am|pm))",
        _F,
    ),
)
MAX_CHILD_AGE = 17
# "our 3 yr old", "a 5-year-old": a child named by their age alone.
AGED_CHILD_RE = re.compile(
    r"\b(?:our|my|a|an|the|his|her)\s+(?:little\s+)?(\d{1,2})\s*[- ]?\s*"
    r"(?:years?|yrs?|y)[- ]?\s*old\b"
    r"(?!\s*(?:son|daughter|boy|girl|kids?|children|child))",
    _F,
)


def _first(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    return pattern.search(text)


def child_ages(text: str) -> list[tuple[int, int, int]]:
    """Each age said of a child, with its span: (age, start, end), in order."""
    found: list[tuple[int, int, int]] = []
    for pattern in AGE_RES:
        for m in pattern.finditer(text):
            group = next(g for g in range(1, (m.lastindex or 0) + 1) if m.group(g))
            for n in re.finditer(r"\d{1,2}", m.group(group)):
                start = m.start(group) + n.start()
                if any(s <= start < e for _, s, e in found):
                    continue
                age = int(n.group(0))
                if age <= MAX_CHILD_AGE:
                    found.append((age, start, start + len(n.group(0))))
    return sorted(found, key=lambda a: a[1])


def companions(text: str) -> tuple[int, int, bool, int, int] | None:
    """ "me and 2 friends": (adults, children, children_uncounted, start, end) with the
    writer counted as an adult; None unless the writer names themselves in a list."""
    me = _first(SELF_RE, text)
    if me is None:
        return None
    adults, children, uncounted = 1, 0, False
    start, end = (me.start("with"), me.end()) if me.group("with") else (me.start(), me.end())
    for m in COMPANION_RE.finditer(text):
        start, end = min(start, m.start()), max(end, m.end())
        if m.group(1):  # "2 friends", "3 kids", "two couples"
            n = to_int(m.group(1))
            word = m.group(2).lower()
            if word == "couples":
                adults += 2 * n
            elif _CHILD_MANY_RE.match(word):
                children += n
            else:
                adults += n
        elif m.group(3):  # "my kids": how many is not said
            uncounted = True
        elif m.group(4):  # "my parents"
            adults += 2
        elif m.group(5):
            if _CHILD_ONE_RE.match(m.group(5)):
                children += 1
            else:
                adults += 1
    if (plus := _first(ME_PLUS_RE, text)) and adults == 1 and not children:
        adults += to_int(plus.group(1))
        end = max(end, plus.end())
    if adults == 1 and not children and not uncounted:
        return None  # "send me and..." with nobody else named: not a party
    return adults, children, uncounted, start, end


def bare_count(text: str) -> int | None:
    """A message that is only a number of people, answering "how many?": "4", "four",
    "3 please", "5 ppl"."""
    m = re.fullmatch(
        rf"\s*(?:we\s*(?:are|'re)\s+|just\s+)?({NUMBER})\s*(?:people|persons|pax|ppl|adults|"
        rf"of us|guests|total|in total)?\s*(?:please|pls|plz|thanks|thx)?\s*[.!]*\s*",
        text,
        _F,
    )
    if not m:
        return None
    n = to_int(m.group(1))
    return n if 0 < n <= PLAUSIBLE_PARTY else None


def extract(text: str) -> list[Entity]:
    found: list[Entity] = []
    ages = child_ages(text)
    counted = companions(text)
    if counted is not None and not _said_plainly(text):
        adults_n, children_n, uncounted, start, end = counted
        children_n = max(children_n, len(ages)) if uncounted else children_n
        # "me + my wife + our 3 yr old": the child is named by age, not by a companion word.
        aged = [int(age) for age in AGED_CHILD_RE.findall(text)]
        children_n = max(children_n, sum(age <= MAX_CHILD_AGE for age in aged))
        adults_n += sum(age > MAX_CHILD_AGE for age in aged)  # "our 19 year old"
        uncounted = uncounted and not ages
        found.append(Entity("adults", adults_n, start, end))
        if children_n:
            found.append(Entity("children", children_n, start, end))
        if uncounted:
            found.append(Entity("party_incomplete", "children", start, end))
        else:
            found.append(Entity("party_size", adults_n + children_n, start, end))
    else:
        found = _counted(text, ages)
    if ages:
        found.append(
            Entity("child_ages", ",".join(str(a) for a, _, _ in ages), ages[0][1], ages[-1][2])
        )
    # "200 people" is a group to pass to sales, not a typo to drop; a bare number is
    # believed only in the range a party plausibly has.
    kept = []
    for e in found:
        if e.entity in ("child_ages", "party_incomplete"):
            kept.append(e)
        elif 0 < int(e.value) <= (PLAUSIBLE_PARTY if e.extractor == _AMBIGUOUS else EXPLICIT_PARTY):
            kept.append(Entity(e.entity, e.value, e.start, e.end))
    return kept


_AMBIGUOUS = "ambiguous"  # marks a count believed only when small; never returned


def _said_plainly(text: str) -> bool:
    """ "me and my wife, 2 adults": a count said outright wins over counting the people
    named ("friends" is a companion word: "me and 2 friends" is 3)."""
    if _first(ADULT_RE, text) or _first(GROUP_RE, text):
        return True
    m = _first(PEOPLE_RE, text)
    return m is not None and not re.search(r"friends|members", m.group(0), _F)


def _counted(text: str, ages: list[tuple[int, int, int]]) -> list[Entity]:
    """Numbers said with who they count: "2 adults and 2 kids", "family of four"."""
    found: list[Entity] = []
    adults = _first(ADULT_RE, text)
    children = _first(CHILD_RE, text)
    if adults:
        found.append(Entity("adults", to_int(adults.group(1)), adults.start(1), adults.end(1)))
    if children:
        found.append(
            Entity("children", to_int(children.group(1)), children.start(1), children.end(1))
        )
    elif ages and (adults or _first(ONE_CHILD_RE, text)):
        # "2 adults and a 5 year old and a 9 year old": as many children as ages.
        found.append(Entity("children", len(ages), ages[0][1], ages[-1][2]))
    elif m := _first(ONE_CHILD_RE, text):
        found.append(Entity("children", 1, m.start(), m.end()))
    elif ages and re.search(rf"\b{CHILDREN}\b|\b(?:sons?|daughters?)\b", text, _F):
        # "a family of four, kids are 6 and 9": as many children as ages; the total below.
        found.append(Entity("children", len(ages), ages[0][1], ages[-1][2]))

    total, ambiguous = None, False
    if m := _first(COUPLES_RE, text):
        total = Entity("party_size", 2 * to_int(m.group(1)), m.start(), m.end())
    for pattern in (PEOPLE_RE, GROUP_RE, WE_ARE_RE):
        if total is not None:
            break
        match = _first(pattern, text)
        if match:
            total = Entity("party_size", to_int(match.group(1)), match.start(1), match.end(1))
            ambiguous = pattern is WE_ARE_RE  # "we are 30 minutes away"
    if total is None and any(e.entity in ("adults", "children") for e in found):
        value = sum(e.value for e in found if isinstance(e.value, int))
        first, last = found[0], found[-1]
        total = Entity("party_size", value, min(first.start, last.start), max(first.end, last.end))
    if total is None:
        ambiguous = True  # "for 2025", "for 15": a year, a date, a price
        if match := _first(SOLO_RE, text):
            total = Entity("party_size", 1, match.start(), match.end())
        elif match := _first(PAIR_RE, text):
            total = Entity("party_size", 2, match.start(), match.end())
        elif match := _first(FOR_RE, text):
            total = Entity("party_size", to_int(match.group(1)), match.start(1), match.end(1))
    if total is not None and (more := _first(PLUS_ONE_RE, text[total.end :])):
        # "there's 4 of us plus my mum": one more, after the count.
        plus_child = bool(_CHILD_ONE_RE.match(more.group(1)))
        if plus_child and not any(e.entity == "children" for e in found):
            found.append(Entity("children", 1, total.end + more.start(1), total.end + more.end(1)))
            found.append(Entity("adults", int(total.value), total.start, total.end))
        total = Entity("party_size", int(total.value) + 1, total.start, total.end + more.end())
    if total is not None:
        if ambiguous:
            total = Entity(total.entity, total.value, total.start, total.end, _AMBIGUOUS)
        found.append(total)
    return found


__all__ = ["WORDS", "bare_count", "child_ages", "companions", "extract"]
