"""Words that act before any understanding: carrier opt-out keywords, HELP, MENU, AGENT and
the answers to a waitlist offer. The rules that use them are in bot/states.py; what they
do is in bot/keyword_answers.py."""

from __future__ import annotations

import re
from collections.abc import Callable

# Twilio's default opt-out keywords on SMS (a whole message, any case): Twilio blocks our
# texts to the sender and confirms by itself, unless the number's Messaging Service has
# Advanced Opt-Out with other words (docs/conversations.md#opting-out-and-cancel).
TWILIO_OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_OUT = TWILIO_OPT_OUT | {"STOP ALL"}
OPT_IN = frozenset({"START", "UNSTOP", "YES START", "OPTIN"})
# Twilio's OptOutType on an inbound message (sent only with Advanced Opt-Out): what Twilio
# did with it.
TWILIO_STOP, TWILIO_START = "STOP", "START"
# The one opt-out word a customer with a booking often means about the booking.
CANCEL = "CANCEL"
# With the words the Portuguese, Spanish, French and German replies ask for ("responda
# AGENTE", "répondez CONSEILLER", "antworte TEAM", "CONFIRMAR", "BESTÄTIGEN").
HELP = frozenset({"HELP", "INFO", "AJUDA", "AYUDA", "AIDE", "HILFE"})
RESET = frozenset({"MENU", "RESTART", "RESET", "START OVER", "MENÚ"})
AGENT = frozenset(
    {"AGENT", "HUMAN", "PERSON", "AGENTE", "PESSOA", "PERSONA", "CONSEILLER", "TEAM", "MENSCH"}
)
OFFER_YES = frozenset(
    {"CONFIRM", "YES", "Y", "OK", "ACCEPT", "BOOK", "SIM", "SÍ", "SI", "OUI", "JA"}
    | {"CONFIRMAR", "CONFIRMER", "BESTÄTIGEN", "BESTAETIGEN", "BESTATIGEN"}
)
OFFER_NO = frozenset(
    {"DECLINE", "NO", "N", "NÃO", "NAO", "NON", "NEIN"}
    | {"RECUSAR", "RECHAZAR", "REFUSER", "ABLEHNEN"}
)
# The whole message an acknowledgement ("ok 👍", "vale gracias", "merci beaucoup"): with
# nothing open it is answered in a line, not with the menu (bot/general.acknowledge).
THANKS = frozenset(
    {"THANKS", "THANK YOU", "THANKS A LOT", "THX", "TY", "CHEERS", "MANY THANKS"}
    | {"OBRIGADO", "OBRIGADA", "MUITO OBRIGADO", "MUITO OBRIGADA", "VALEU", "OBG"}
    | {"GRACIAS", "MUCHAS GRACIAS", "MIL GRACIAS"}
    | {"MERCI", "MERCI BEAUCOUP", "MERCI BCP"}
    | {"DANKE", "DANKESCHÖN", "DANKE SCHÖN", "VIELEN DANK", "DANKE SCHOEN"}
)
_OKAY = frozenset(
    {"OK", "OKAY", "OKI", "OKE", "K", "KK", "ALRIGHT", "ALL GOOD", "GOT IT", "NOTED"}
    | {"GREAT", "PERFECT", "COOL", "NICE", "SUPER", "AWESOME", "SOUNDS GOOD", "GOOD"}
    | {"PERFEITO", "BELEZA", "COMBINADO", "CERTO", "FIXE", "ÓTIMO", "OTIMO", "TA BOM", "TÁ BOM"}
    | {"VALE", "PERFECTO", "GENIAL", "DE ACUERDO", "ENTENDIDO", "BIEN", "MUY BIEN", "GUAY"}
    | {"DACCORD", "PARFAIT", "GÉNIAL", "TRÈS BIEN", "ENTENDU", "OK DACCORD"}
    | {"PERFEKT", "ALLES KLAR", "GUT", "PRIMA", "TOLL", "KLAR"}
)
_EMOJI_ONLY = re.compile(
    r"[\s\U0001F44D\U0001F44C\U0001F64F\U0001F60A\U0001F642\U0001F600"
    r"\U0001F44F\u2705\u2764\U0001FAF6\U0001F3FB-\U0001F3FF\ufe0f]+"
)


def thanks(text: str) -> bool:
    """The whole message a thanks, with an ok or emoji or not ("ok thanks 👍", "vale gracias")."""
    return _acknowledgement(text) == "thanks"


def acknowledges(text: str) -> bool:
    """The whole message an ok or a thanks ("ok 👍", "perfect", "vale gracias", "👍")."""
    return _acknowledgement(text) is not None


def _acknowledgement(text: str) -> str | None:
    if text.strip() and _EMOJI_ONLY.fullmatch(text):
        return "ok"
    words = keyword(text).split()
    thanked = False
    # "ok thanks", "vale gracias", "perfect thank you", "merci ok": okays and a thanks.
    i = 0
    while i < len(words):
        for n in (3, 2, 1):
            part = " ".join(words[i : i + n])
            if part in THANKS or part in _OKAY:
                thanked = thanked or part in THANKS
                i += n
                break
        else:
            return None
    if not words:
        return None
    return "thanks" if thanked else "ok"


# The whole message a clear yes to "Reply YES to cancel": anything more ("yes a manager.
# now.", "yes but can we move it?") is not, and lets the cancellation lapse.
CLEAR_YES = frozenset(
    {
        "YES",
        "Y",
        "YES PLEASE",
        "YES CANCEL",
        "YES CANCEL IT",
        "CANCEL IT",
        "YES CONFIRM",
        "CONFIRM",
        "YEP",
        "YEAH",
        "YUP",
        "YES GO AHEAD",
        "GO AHEAD",
        "OK",
        "OKAY",
        "SURE",
        "YES DO IT",
        "DO IT",
        "YES PLEASE CANCEL",
        "PLEASE CANCEL",
        "PLEASE CANCEL IT",
        "YES I WANT TO CANCEL",
        "YES I CONFIRM",
        "I CONFIRM",
        "SIM",
        "SÍ",
        "SI",
        "OUI",
        "JA",
        # "sim, pode cancelar", "sí, cancélala", "oui, annulez-la", "ja, bitte stornieren"
        "SIM PODE CANCELAR",
        "SIM CANCELA",
        "SIM CANCELAR",
        "PODE CANCELAR",
        "SÍ CANCELA",
        "SI CANCELA",
        "SÍ CANCÉLALA",
        "SI CANCELALA",
        "SÍ CANCELAR",
        "SÍ POR FAVOR CANCELA",
        "OUI ANNULEZ",
        "OUI ANNULEZLA",
        "OUI ANNULER",
        "OUI VOUS POUVEZ ANNULER",
        "JA STORNIEREN",
        "JA BITTE STORNIEREN",
        "JA STORNIEREN SIE",
        "JA BITTE STORNIEREN SIE",
        "BITTE STORNIEREN",
    }
)
CLEAR_NO = frozenset(
    {
        "NO",
        "N",
        "NOPE",
        "NO THANKS",
        "NO THANK YOU",
        "DONT CANCEL",
        "DO NOT CANCEL",
        "KEEP IT",
        "KEEP",
        "KEEP MY BOOKING",
        "NO KEEP IT",
        "NAO",
        "NÃO",
        "NON",
        "NEIN",
    }
)


def opts_out(
    word: str,
    *,
    channel: str,
    opt_out_type: str | None,
    advanced_opt_out: bool,
    has_booking: Callable[[], bool],
) -> bool:
    """Whether the message opts the sender out. On SMS Twilio decides, and has already
    blocked them: its OptOutType says so when Advanced Opt-Out is on (then the words are
    the Messaging Service's), else its default words do. On WhatsApp nothing blocks
    anyone, so it is ours to read: CANCEL from someone with a booking is about it."""
    if channel == "sms":
        if opt_out_type:
            return opt_out_type == TWILIO_STOP
        return not advanced_opt_out and word in OPT_OUT
    if word not in OPT_OUT:
        return False
    return word != CANCEL or not has_booking()


def opts_in(word: str, opt_out_type: str | None) -> bool:
    return word in OPT_IN or opt_out_type == TWILIO_START


def keyword(text: str) -> str:
    """The message as a keyword candidate: upper case, no punctuation around it."""
    return re.sub(r"[^\w ]+", "", text).strip().upper()
