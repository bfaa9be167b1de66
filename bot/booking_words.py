"""What a customer asks of a booking they already have, in their words: more or fewer
people, a new party, the balance, a receipt, an invoice, another date; and a clear yes or
no to a change stated with its price. Read before the NLU's intent (bot/states.py), since
"add one more person to BK-7K3Q9" reads to a classifier like a new booking."""

from __future__ import annotations

import re

from intents.entities.numbers import NUMBER, to_int

_F = re.IGNORECASE
PEOPLE = (
    r"(?:people|persons?|person|pax|guests?|adults?|kids?|child|children|friends?|seats?|spots?|"
    r"places?|tickets?|of us|more)"
)
ADD_RE = re.compile(
    rf"\badd(?:ing)?\b|\b({NUMBER}|one|another)\s+(?:more|extra|additional)\b|\bplus\s+one\b|\+\s?1\b"
    rf"|\bcan\s+(?:my|a|one|another|our)\s+[\w-]+(?:\s+[\w-]+)?\s+(?:come|join)\b"
    rf"|\b(?:bring|brings|bringing)\s+(?:a|my|our|one|another|{NUMBER})\b"
    rf"|\b(?:join|coming)\s+(?:us\s+)?too\b|\banother\s+(?:person|adult|kid|child|friend|guest)\b",
    _F,
)
REMOVE_RE = re.compile(
    r"\b(?:remove|drop|take\s+off|cancel\s+(?:one|\d+)\s+(?:person|people|seat|of))\b"
    rf"|\b({NUMBER}|one)\s+(?:less|fewer)\b|\bminus\s+(?:one|\d+)\b"
    r"|\b(?:can'?t|cannot|can not|won'?t|isn'?t|aren'?t|not)\s+(?:be\s+)?"
    r"(?:come|coming|make it|join|joining)\b|\b(?:dropped|pulled)\s+out\b"
    r"|\bno\s+longer\s+(?:come|coming|join)"
    r"|\b(?:one|two|\d+)\s+of\s+us\s+(?:is|are|'s|got|has|have)\s+(?:sick|ill|unwell|not|out|cancel)",
    _F,
)
# "make it 4", "change it to 3 people", "we are now 5", "now 3 of us", "update to 2 adults",
# "go with 2 instead of 3", "only 2 of us now"
SET_RE = re.compile(
    rf"\b(?:make\s+it|change\s+(?:it|the\s+booking|my\s+booking|that|us)\s+to|update\s+(?:it\s+)?to"
    rf"|now\s+(?:we(?:'re|\s+are)\s+)?|we(?:'re|\s+are|\s+will\s+be|'ll\s+be)(?:\s+now)?|with"
    rf"|be|only|just)\s+({NUMBER})\b(?:\s+(?:people|persons|adults|of\s+us|pax))?"
    rf"(?=\s+(?:instead|now|rather|please|pls|plz|thanks|thx)\b|\s*$|\s*[,.!?])"
    rf"|\b({NUMBER})\s+(?:people\s+|adults\s+|of\s+us\s+)?instead\s+of\s+{NUMBER}\b",
    _F,
)
BALANCE_RE = re.compile(
    r"\b(?:balance|remainder|remaining|the\s+rest|outstanding|still\s+owe|left\s+to\s+pay|"
    r"amount\s+due|what\s+do\s+i\s+owe|how\s+much\s+do\s+i\s+owe)\b",
    _F,
)
RECEIPT_RE = re.compile(r"\b(?:receipt|reciept|recipt|proof\s+of\s+payment)s?\b", _F)
# With the word each translated reply asks for ("responda FATURA", "antworte RECHNUNG").
INVOICE_RE = re.compile(
    r"\b(?:invoice|invoices|vat|tax\s+invoice|billing\s+details|faturas?|facturas?|factures?|"
    r"rechnung(?:en)?)\b",
    _F,
)
MOVE_RE = re.compile(
    r"\b(?:move|change|switch|swap|reschedule|postpone|push|bring\s+forward|transfer)\b"
    r"[^.?!]{0,40}?\b(?:date|day|booking|trip|tour|departure|reservation|another\s+day|"
    r"a\s+different\s+day|tomorrow|next\s+week|monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|weekend|morning|afternoon|evening|later|earlier|"
    r"\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2})\b",
    _F,
)
# Who is added or removed: people, companions, a number.
WHO_RE = re.compile(
    rf"\b(?:{NUMBER}|one|another|person|people|persons|pax|guests?|adults?|kids?|child|children|"
    r"friends?|wife|husband|partner|girlfriend|boyfriend|gf|bf|mum|mom|dad|mother|father|son|"
    r"daughter|brother|sister|cousin|colleague|baby|toddler|grandma|grandpa|uncle|aunt|niece|"
    r"nephew|fianc[eé]e?|spouse|mate|buddy|seats?|spots?|tickets?|places?|of us)\b|\+\s?1",
    _F,
)
REF_RE = re.compile(r"\b(?:BK|bk)[\s\-#]?[2-9A-HJ-KM-NP-Za-hj-km-np-z]{5}\b")
# "what time does it start?", "where do we meet?", "when is my tour?"
WHEN_WHERE_RE = re.compile(
    r"\b(?:what\s+time|when)\b[^?.!]{0,30}\b(?:start|starts|begin|begins|leave|leaves|depart|"
    r"departs|pick\s*up|pickup|meet|is\s+(?:it|my|our|the)\s+(?:tour|trip|booking|walk|trek))\b"
    r"|\bwhere\b[^?.!]{0,30}\b(?:meet|meeting|start|starts|pick\s*up|pickup)\b",
    _F,
)
CHILD_RE = re.compile(r"\b(?:kids?|child|children|son|daughter|baby|toddler|boy|girl)\b", _F)

# The kinds of request, as bot/my_bookings.py answers them.
ADD, REMOVE, PARTY, BALANCE, RECEIPT, INVOICE, MOVE, WHEN_WHERE = (
    "add",
    "remove",
    "party",
    "balance",
    "receipt",
    "invoice",
    "move",
    "when_where",
)
# Requests that change who comes: read against a booking only outside a quote in progress
# ("make it 3" while choosing a departure is about that quote).
PARTY_KINDS = frozenset({ADD, REMOVE, PARTY})
# Requests that need a booking to be about (else the NLU reads the message as usual).
NEEDS_BOOKING = PARTY_KINDS | {MOVE, WHEN_WHERE}


def request_kind(text: str) -> str | None:
    """What the message asks of an existing booking, if anything."""
    if INVOICE_RE.search(text):
        return INVOICE
    if RECEIPT_RE.search(text):
        return RECEIPT
    if MOVE_RE.search(text):
        return MOVE
    if SET_RE.search(text):
        return PARTY
    if REMOVE_RE.search(text) and WHO_RE.search(text):
        return REMOVE
    if ADD_RE.search(text) and WHO_RE.search(text):
        return ADD
    if WHEN_WHERE_RE.search(text):
        return WHEN_WHERE
    if asks_balance(text):
        return BALANCE
    return None


def asks_balance(text: str) -> bool:
    return bool(
        BALANCE_RE.search(text)
        and re.search(r"\bpa(?:y|id|ying)\b|\bowe\b|\bdue\b|\bbalance\b", text, _F)
    )


def new_count(text: str) -> int | None:
    """For PARTY: the number of people the booking should be for ("make it 4")."""
    m = SET_RE.search(text)
    if m is None:
        return None
    return to_int(m.group(1) or m.group(2))


def how_many(text: str, kind: str) -> tuple[str, int]:
    """For ADD or REMOVE: the tier and the number of people ("2 more kids": child, 2);
    one adult unless said otherwise."""
    pattern = ADD_RE if kind == ADD else REMOVE_RE
    n = 1
    for m in pattern.finditer(text):
        if m.lastindex and m.group(1) and m.group(1).lower() not in ("one", "another"):
            n = to_int(m.group(1))
            break
    else:
        after = re.search(
            rf"\b(?:add|remove|drop|take\s+off|bring)\s+({NUMBER})\b(?!\s*(?:am|pm|:))", text, _F
        )
        if after:
            n = to_int(after.group(1))
    return ("child" if CHILD_RE.search(text) else "adult"), n


# A yes in Portuguese, Spanish, French and German too ("sim, pode ser", "sí, vale", "oui
# d'accord", "ja gerne"), with what may follow it and still be only a yes.
_YES_FOREIGN = (
    r"|sim|s[ií]|oui|ja|claro|vale|d'accord|genau|certo|perfeito|perfecto|parfait|perfekt"
    r"|pode\s+ser|t[aá]\s+bem|est[aá]\s+bem|de\s+acuerdo|por\s+supuesto|bien\s+s[uû]r"
    r"|c'est\s+bon|klar|passt|gerne|confirmo|je\s+confirme|ich\s+best[aä]tige"
)
_YES_TAIL_FOREIGN = (
    r"|por\s+favor|porfa|pf|pfv|obrigad[oa]|gracias|merci|danke|bitte|svp"
    r"|s'il\s+vous\s+pla[iî]t|claro|sim|s[ií]|oui|ja|gerne|vale|d'accord|genau|pode\s+ser"
)
YES_RE = re.compile(
    r"\s*(?:yes|yeah|yea|yep|yup|ya|y|ok|okay|k|sure|confirm(?:ed)?|go\s+ahead|do\s+it|please\s+do"
    r"|correct|that'?s\s+(?:right|fine|ok)|sounds\s+good|perfect|great|deal|agreed|👍|✅"
    + _YES_FOREIGN
    + r")(?:[\s,.!]+(?:yes|please|pls|plz|thanks|thank\s+you|thx|go\s+ahead|do\s+it|confirm"
    + r"|ok|👍|✅"
    + _YES_TAIL_FOREIGN
    + _YES_FOREIGN  # "ja passt", "oui parfait", "sí claro"
    + r"))*[\s.!👍✅🙏]*",
    _F,
)
NO_RE = re.compile(
    r"\s*(?:no|nope|nah|n|no\s+thanks|no\s+thank\s+you|don'?t|leave\s+it|keep\s+it(?:\s+as\s+it\s+is)?"
    r"|never\s*mind|cancel\s+that|forget\s+it"
    # pt / es / fr / de
    r"|n[aã]o|non|nein|n[aã]o,?\s+obrigad[oa]|no,?\s+gracias|non,?\s+merci|nein,?\s+danke"
    r"|deixa\s+estar|d[eé]jalo|laissez\s+tomber|laisse\s+tomber|lass\s+(?:es|mal)"
    r"|esquece|olvídalo|olvidalo|vergiss\s+es)[\s.!]*",
    _F,
)


# With the words the translated question offers ("uma nova reserva", "eine neue Buchung").
NEW_RE = re.compile(
    r"\b(?:new|another|separate|second|different|fresh|nova|novo|nueva|nuevo|nouvelle|"
    r"nouveau|neue|neu)\b",
    _F,
)
THAT_ONE_RE = re.compile(
    r"\b(?:that|this|the\s+same|same|existing|mine|my\s+booking|my\s+one|that\s+one|"
    r"the\s+one\s+i\s+have|the\s+booking\s+i\s+have)\b",
    _F,
)


def meant(
    text: str,
    *,
    reference: str | None,
    tour: str | None,
    theirs: list[str],
    their_tours: list[str],
    new_tour: str | None,
) -> str | None:
    """The answer to "did you mean your booking, or a new one on that tour?": "booking",
    "new", or None when the message is about something else."""
    if reference and reference in theirs:
        return "booking"
    if NEW_RE.search(text) or (tour and tour == new_tour):
        return "new"
    if tour and tour in their_tours:
        return "booking"
    if clear_yes(text) or (THAT_ONE_RE.search(text) and len(text.split()) <= 6):
        return "booking"
    return None


def clear_yes(text: str) -> bool:
    """A yes and nothing else: "yes", "ok go ahead", "yes please 👍". Not "yes a manager.
    now." nor "yes but for 4": a yes inside another request confirms nothing."""
    return YES_RE.fullmatch(text) is not None


def clear_no(text: str) -> bool:
    return NO_RE.fullmatch(text) is not None


# "I'll be there", as a reminder is answered: "yes we'll be there", "oui on sera là 👍",
# "ja wir kommen!", "sí, ahí estaremos", "sim, lá estaremos". The whole message, its emoji
# and punctuation aside, after an optional yes.
_ATTEND_YES = r"(?:yes|yeah|yep|yup|sure|ok|okay|sim|claro|s[ií]|oui|ouais|ja|jawohl|klar|genau)"
_ATTEND = (
    r"(?:(?:i|we)\s*(?:'ll|’ll|\s+will|\s+shall)\s+be\s+there|will\s+be\s+there"
    r"|(?:we\s*(?:'re|’re|\s+are)|i\s*(?:'m|’m|\s+am))\s+(?:coming|in)|count\s+(?:me|us)\s+in"
    r"|see\s+you(?:\s+(?:then|there|tomorrow|soon))?"
    # pt
    r"|(?:l[aá]|a[ií])\s+estar(?:emos|ei)|estar(?:emos|ei)\s+(?:l[aá]|a[ií])"
    r"|contem\s+(?:connosco|conosco|comigo)|at[eé]\s+(?:amanh[aã]|j[aá]|l[aá])"
    # es
    r"|(?:ah[ií]|all[ií]|all[aá])\s+estar(?:emos|[eé])|estar(?:emos|[eé])\s+(?:ah[ií]|all[ií]|all[aá])"
    r"|cuenta\s+con\s+nosotros|contad\s+con\s+nosotros|nos\s+vemos(?:\s+(?:ma[ñn]ana|all[ií]|ah[ií]))?"
    r"|hasta\s+ma[ñn]ana"
    # fr
    r"|(?:on|nous)\s+(?:sera|serons)\s+l[aà]|je\s+serai\s+l[aà]|(?:on|nous)\s+y\s+(?:sera|serons)"
    r"|j'y\s+serai|j’y\s+serai|[aà]\s+demain|on\s+vient|nous\s+venons|nous\s+viendrons"
    # de
    r"|wir\s+(?:kommen|sind\s+da(?:bei)?|werden\s+da\s+sein)|ich\s+(?:komme|bin\s+da(?:bei)?|werde\s+da\s+sein)"
    r"|bis\s+(?:morgen|dann|bald))"
)
_THANKS = r"(?:thanks|thank\s+you|thx|obrigad[oa]|gracias|merci|danke(?:\s+sch[oö]n)?)"
ATTEND_RE = re.compile(
    rf"(?:{_ATTEND_YES}\s+)*(?:{_ATTEND}|{_ATTEND_YES})(?:\s+(?:{_ATTEND}|{_THANKS}))*", _F
)
_NOT_WORDS = re.compile(r"[^\w'’]+")


def attends(text: str) -> bool:
    """A yes to "will you be there?", and nothing else: "yes we'll be there", "ok 👍",
    "ja wir kommen!", "oui on sera là". Not "yes but can we come at 6?"."""
    if clear_yes(text):
        return True
    plain = " ".join(_NOT_WORDS.sub(" ", text).split())
    return bool(plain) and ATTEND_RE.fullmatch(plain) is not None
