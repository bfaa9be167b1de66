"""Words that act before any understanding: carrier opt-out keywords, HELP, MENU, AGENT and
the answers to a waitlist offer. The rules that use them are in bot/states.py; what they
do is in bot/keyword_answers.py."""

from __future__ import annotations

import re

# Twilio's standard opt-out and opt-in keywords (a whole message, any case).
OPT_OUT = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "STOP ALL"}
)
OPT_IN = frozenset({"START", "UNSTOP", "YES START", "OPTIN"})
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


def keyword(text: str) -> str:
    """The message as a keyword candidate: upper case, no punctuation around it."""
    return re.sub(r"[^\w ]+", "", text).strip().upper()
