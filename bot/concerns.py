"""What makes a message urgent, read from its words before any intent: someone hurt or in
danger, a guide or driver who did not come, a refund demanded, anger or a complaint. A
furious "I want my money back, the guide never came" reads to the NLU like a cancellation
and must never be answered with "reply YES to cancel" (bot/complaints.py answers it). A
question about a policy ("what if someone gets hurt?") is not an emergency."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Urgency(StrEnum):
    SAFETY = "safety"  # someone hurt, ill, lost or in danger
    NO_SHOW = "no_show"  # the guide, driver or pickup did not come
    REFUND = "refund"  # money back demanded
    COMPLAINT = "complaint"  # anger, a complaint, a manager asked for


@dataclass(frozen=True)
class Concern:
    urgency: Urgency
    words: str  # what matched, for staff


def _any(*patterns: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


# "What if someone gets hurt?", "in case of an accident": a question about a policy, not
# an emergency.
HYPOTHETICAL = _any(
    r"^\s*(?:what|wat)\s+(?:if|happens|about)\b",
    r"\bin case\b",
    r"\bis (?:it|there)\b.*\b(?:insurance|safe|dangerous)\b",
    r"\b(?:do|does) (?:you|the tour|the guide)\b.*\b(?:first aid|insurance)\b",
)
SAFETY = _any(
    r"\b(?:is|are|got|been|was|were|badly|seriously|he's|she's|i'm|we're)\s+(?:injured|hurt|"
    r"bleeding|unconscious)\b",
    r"\bhurt (?:his|her|my|their|our|him|herself|himself|myself)\b",
    r"\b(?:fell|slipped|tripped)\b(?! in love)",
    r"\b(?:injured|injury|injuries|accident|crash(?:ed)?|bleeding|unconscious|ambulance|"
    r"hospital|emergency|fainted|collapsed|heart attack|broke (?:his|her|my|their) \w+|"
    r"broken (?:leg|arm|ankle|wrist)|fell (?:down|off|over)|can'?t breathe|"
    r"altitude sickness symptoms|unsafe|not safe|dangerous driv\w*|drunk driver|"
    r"help us)\b",
    r"\b(?:help|sos)\s*!{2,}",
)
NO_SHOW = _any(
    r"\b(?:guide|driver|instructor|pick ?up|pickup|jeep|bus|car|van|nobody|no ?one|anyone)\b"
    r"[^.?!]{0,40}\b(?:didn'?t|did not|never|hasn'?t|has not|still (?:not|hasn'?t)|not)\s+"
    r"(?:show(?:ed|n)?(?: up)?|come|came|turn(?:ed)? up|arrive[d]?|here|there|pick(?:ed)? us)",
    r"\b(?:no|nobody|no one|no-one)\s+(?:guide|driver|instructor|one|body)\s*(?:here|came|"
    r"showed|turned up|is here|at the)",
    r"\b(?:still|been|are|we're|were)\s+waiting\b[^.?!]{0,40}\b(?:guide|driver|pick ?up|"
    r"min(?:ute)?s?|hour|for (?:an|over|more))",
    r"\bwhere (?:is|are) (?:the|our) (?:guide|driver|instructor|pick ?up|jeep|bus)\b",
    r"\b(?:we|i) (?:are|am|'re|'m) (?:lost|stuck|stranded)\b",
    r"\b(?:we're|i'm|we|i) (?:lost|stuck|stranded)\b",
    r"\bcan'?t find (?:the |our |you|your )?(?:meeting point|guide|driver|pick ?up|group|boat)",
)
REFUND = _any(
    r"\b(?:want|demand|need|expect|give me|i'?d like)\s+(?:a |my |our |the |full )*"
    r"(?:refund|money back)\b",
    r"\brefund (?:me|us|now|immediately)\b",
    r"\bmoney back\b",
    r"\bchargeback\b",
    r"\bdispute (?:the|this) (?:charge|payment)\b",
)
COMPLAINT = _any(
    r"\b(?:complain\w*|unacceptable|ridiculous|disgusting|disgraceful|outrageous|terrible|"
    r"horrible|awful|worst|scam\w*|rip[\s-]?off|fraud|furious|angry|livid|appalling|"
    r"pathetic|useless|rude|shameful|never again|waste of (?:money|time)|"
    r"very disappointed|so disappointed|extremely disappointed|not happy|unhappy|"
    r"(?:charged|billed|paid) (?:me |us )?(?:twice|double|two times)|double[\s-]charged|"
    r"overcharged)\b",
    r"\b(?:manager|supervisor|your boss|owner)\b",
    r"\b(?:wtf|f+u+c+k\w*|sh[i1]t+y?|bullshit|crap)\b",
)
# Shouting: several words in capitals with exclamation marks.
SHOUTING = re.compile(r"(?:\b[A-Z]{3,}\b[^a-z]*){3,}!")


def concern(text: str) -> Concern | None:
    """The most urgent concern in a message, or None. Safety first, then a guide who did
    not come, a refund demanded, a complaint."""
    if not text.strip() or HYPOTHETICAL.search(text):
        return None
    for urgency, pattern in (
        (Urgency.SAFETY, SAFETY),
        (Urgency.NO_SHOW, NO_SHOW),
        (Urgency.REFUND, REFUND),
        (Urgency.COMPLAINT, COMPLAINT),
    ):
        found = pattern.search(text)
        if found:
            return Concern(urgency, found.group(0))
    if SHOUTING.search(text):
        return Concern(Urgency.COMPLAINT, "shouting")
    return None
