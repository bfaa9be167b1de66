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


def keyword(text: str) -> str:
    """The message as a keyword candidate: upper case, no punctuation around it."""
    return re.sub(r"[^\w ]+", "", text).strip().upper()
