"""What makes a message urgent, read from its words before any intent: someone hurt or in
danger, a guide or driver who did not come, a refund demanded, anger or a complaint. A
furious "I want my money back, the guide never came" reads to the NLU like a cancellation
and must never be answered with "reply YES to cancel" (bot/complaints.py answers it). A
question about a policy ("what if someone gets hurt?") is not an emergency.

The words are read in English, Portuguese, Spanish, French and German whatever the
customer's language is (a Portuguese customer may write in English when upset): each kind
lists each language's words."""

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
    # pt
    r"^\W*e se\b",
    r"\bem caso de\b",
    r"\bo que acontece (?:se|quando)\b",
    r"\b(?:[eé]|ser[aá]) (?:seguro|perigoso)\b",
    r"\b(?:t[eê]m|tem|h[aá]|inclui) seguro\b",
    r"\bprimeiros socorros\b",
    # es
    r"^\W*y si\b",
    r"\ben caso de\b",
    r"\bqu[eé] pasa (?:si|cuando)\b",
    r"\bes (?:seguro|peligroso)\b",
    r"\b(?:hay|tienen|incluye) seguro\b",
    r"\bprimeros auxilios\b",
    # fr
    r"^\W*et s(?:i|'il|'ils)\b",
    r"\ben cas d",
    r"\bqu(?:e|'est-ce qui) se passe(?:-t-il)? (?:si|s'il|quand)\b",
    r"\b(?:c'est|est-ce) (?:que c'est )?(?:s[uû]r|dangereux)\b",
    r"\bassurance\b[^.!]*\?",
    r"\bpremiers secours\b",
    # de
    r"^\W*was (?:ist|passiert|macht ihr),? (?:wenn|falls)\b",
    r"\bim (?:not)?fall\b",
    r"\bfalls (?:es|ich|wir|jemand|man|das|er|sie)\b",
    r"\bist (?:es|das) (?:sicher|gef[aä]hrlich)\b",
    r"\bversicherung\b[^.!]*\?",
    r"\berste hilfe\b",
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
    # pt
    r"\b(?:ferid[oa]s?|magoou-se|magoou|magoad[oa]|machucou|machucad[oa]|acidente|sangrar|"
    r"sangrando|sangue|inconsciente|desmaiou|ambul[aâ]ncia|hospital|emerg[eê]ncia|"
    r"urg[eê]ncias|caiu|ca[ií]ram|escorregou|trope[cç]ou|partiu (?:a|o) \w+|"
    r"(?:perna|bra[cç]o|p[eé]|tornozelo|pulso) partid[oa]|n[aã]o consegue respirar|socorro)\b",
    # es
    r"\b(?:herid[oa]s?|lesionad[oa]s?|se (?:ha )?hecho da[nñ]o|accidente|sangra|sangrando|sangre|"
    r"inconsciente|se (?:ha )?desmayado|se desmay[oó]|ambulancia|hospital|emergencia|urgencias|"
    r"se (?:ha )?ca[ií]do|se cay[oó]|resbal[oó]|se (?:ha )?roto|se rompi[oó]|"
    r"(?:pierna|brazo|tobillo|mu[nñ]eca) rot[oa]|no puede respirar|socorro|auxilio)\b",
    # fr
    r"\b(?:bless[eé]e?s?|s'est fait mal|accident|saigne|inconscient|[eé]vanoui|ambulance|"
    r"h[oô]pital|urgences?|(?:est|sont|suis) tomb[eé]e?s?|a gliss[eé]|s'est cass[eé]|"
    r"(?:jambe|bras|cheville|poignet) cass[eé]e?|ne (?:peut|peux) (?:plus )?respirer|"
    r"au secours)\b",
    # de
    r"\b(?:verletzt|verletzung|unfall|blutet|bewusstlos|ohnm[aä]chtig|krankenwagen|"
    r"rettungswagen|krankenhaus|notfall|notaufnahme|gest[uü]rzt|hingefallen|ausgerutscht|"
    r"gebrochen|bekommt keine luft|lebensgefahr)\b",
    r"\b(?:socorro|auxilio|au secours|hilfe)\s*!+",
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
    # pt
    r"\b(?:guia|motorista|condutor|ningu[eé]m|transfer|carro|jipe|carrinha|autocarro|"
    r"[oô]nibus|van)\b[^.?!]{0,40}\b(?:n[aã]o|nunca|ainda n[aã]o)\s+"
    r"(?:apareceu|veio|chegou|est[aá] (?:aqui|c[aá])|nos (?:veio |foi )?buscar)",
    r"\b(?:estamos|estou|est[aã]o)\s+(?:[aà] espera|esperando)\b[^.?!]{0,40}"
    r"\b(?:guia|motorista|min|minutos|hora|meia hora|h[aá] )",
    r"\bonde (?:est[aá]|anda) o (?:guia|motorista)\b",
    r"\b(?:estamos|estou) perdid[oa]s?\b",
    r"\bn[aã]o (?:encontramos|encontro|achamos|acho) o (?:ponto de encontro|guia|motorista|grupo)",
    # es
    r"\b(?:gu[ií]a|conductor|ch[oó]fer|nadie|transfer|coche|jeep|furgoneta|bus|autob[uú]s)\b"
    r"[^.?!]{0,40}\b(?:no|nunca|todav[ií]a no|a[uú]n no)\s+(?:ha\s+)?(?:aparecido|apareci[oó]|"
    r"venido|vino|llegado|lleg[oó]|est[aá] aqui|est[aá] aquí|nos (?:ha )?recogido)",
    r"\b(?:estamos|llevamos|estoy|llevo)\s+esperando\b[^.?!]{0,40}"
    r"\b(?:gu[ií]a|conductor|min|minutos|hora|media hora)",
    r"\bllevamos \d+ (?:min|minutos|horas?)\b",
    r"\bd[oó]nde est[aá] el (?:gu[ií]a|conductor|ch[oó]fer)\b",
    r"\b(?:estamos|estoy) perdid[oa]s?\b",
    r"\bno (?:encontramos|encuentro) (?:el|al) (?:punto de encuentro|gu[ií]a|grupo)",
    # fr
    r"\b(?:guide|chauffeur|conducteur|personne|navette|minibus|voiture|jeep)\b[^.?!]{0,40}"
    r"\bn'(?:est|a) (?:toujours )?(?:pas|jamais) (?:venue?|arriv[eé]e?|l[aà]|pass[eé])",
    r"\bpersonne n'est (?:venu|l[aà]|arriv[eé])",
    r"\b(?:on|nous) attend(?:ons)? depuis\b",
    r"\b[cç]a fait \d+ (?:min|minutes|heures?) qu'on attend",
    r"\bo[uù] est (?:le|notre) (?:guide|chauffeur)\b",
    r"\b(?:on est|nous sommes|je suis) perdue?s?\b",
    r"\b(?:on|nous) ne trouv(?:e|ons) pas (?:le point de rendez-vous|le guide|le groupe)",
    # de
    r"\b(?:guide|fahrer|f[uü]hrer|niemand|keiner|abholung|bus|jeep|auto)\b[^.?!]{0,40}"
    r"\b(?:ist|sind)?\s*(?:noch )?(?:nicht|nie) (?:gekommen|aufgetaucht|erschienen|da|hier)",
    r"\bniemand (?:ist )?(?:gekommen|da|hier|aufgetaucht)",
    r"\bwarten (?:schon |seit )",
    r"\bwo (?:ist|bleibt) (?:der|unser) (?:guide|fahrer|f[uü]hrer)\b",
    r"\b(?:wir haben uns|wir sind|ich bin|ich habe mich) (?:verlaufen|verirrt)",
    r"\bfinden (?:den treffpunkt|den guide|die gruppe) nicht",
)
REFUND = _any(
    r"\b(?:want|demand|need|expect|give me|i'?d like)\s+(?:a |my |our |the |full )*"
    r"(?:refund|money back)\b",
    r"\brefund (?:me|us|now|immediately)\b",
    r"\bmoney back\b",
    r"\bchargeback\b",
    r"\bdispute (?:the|this) (?:charge|payment)\b",
    # pt
    r"\b(?:quero|exijo|queremos|exigimos)\s+(?:o |um |a |meu |minha |nosso |o meu |o nosso )*"
    r"(?:reembolso|dinheiro)\b",
    r"\b(?:devolvam|devolvam-me|devolvam-nos|devolver) (?:o |me |nos )?(?:meu |nosso )?dinheiro",
    r"\bdinheiro de volta\b",
    # es
    r"\b(?:quiero|exijo|queremos|exigimos)\s+(?:el |un |una |mi |la |nuestro |que me devuelvan )*"
    r"(?:reembolso|devoluci[oó]n|dinero)\b",
    r"\b(?:devu[eé]lvanme|devu[eé]lvannos|que me devuelvan|que nos devuelvan)\b",
    # fr
    r"\b(?:je veux|j'exige|nous voulons|on veut|je demande|j'attends|nous exigeons)\s+"
    r"(?:un |le |mon |notre |d'[eê]tre |[eê]tre |[aà] [eê]tre )*rembours\w*",
    r"\b(?:rendez|rends)-(?:moi|nous) (?:mon|notre) argent\b",
    r"\bremboursez-(?:moi|nous)\b",
    # de
    r"\b(?:ich will|ich m[oö]chte|ich verlange|wir wollen|wir verlangen|ich fordere|wir fordern)"
    r"\s+(?:mein |unser |das |eine |die |volle |sofort |unser |meine )*"
    r"(?:geld zur[uü]ck|erstattung|r[uü]ckerstattung)",
    r"\b(?:erstatten sie|zahlen sie)\b[^.?!]{0,20}\bzur[uü]ck",
    r"\br[uü]ckbuchung\b",
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
    # pt
    r"\b(?:reclama[cç][aã]o|reclama[cç][oõ]es|reclamar|queixa|queixar-me|inaceit[aá]vel|"
    r"rid[ií]culo|que vergonha|uma vergonha|vergonhoso|p[eé]ssim[oa]|horr[ií]vel|"
    r"terr[ií]vel|burla|fraude|"
    r"vigarice|furios[oa]|revoltad[oa]|indignad[oa]|nojento|mal[- ]educad[oa]|malcriad[oa]|"
    r"grosseir[oa]|perda de tempo|(?:muito|t[aã]o) (?:desiludid[oa]|desapontad[oa])|"
    r"insatisfeit[oa]|cobraram (?:duas vezes|a dobrar|em dobro)|cobrad[oa] duas vezes|"
    r"livro de reclama[cç][oõ]es|merda|caralho|porra)\b",
    r"\b(?:o|um|ao|com o) (?:gerente|respons[aá]vel|dono|chefe|supervisor)\b",
    # es
    r"\b(?:queja|quejarme|reclamaci[oó]n|inaceptable|rid[ií]culo|qu[eé] verg[uü]enza|"
    r"una verg[uü]enza|vergonzoso|"
    r"p[eé]sim[oa]|horrible|terrible|estafa|estafadores|timo|fraude|furios[oa]|enfadad[oa]|"
    r"enojad[oa]|indignad[oa]|asqueroso|maleducad[oa]|grosero|nunca m[aá]s|p[eé]rdida de tiempo|"
    r"(?:muy|tan) decepcionad[oa]|(?:cobrado|cobraron|cobrasteis) dos veces|cobro doble|"
    r"hoja de reclamaciones|mierda|joder)\b",
    r"\b(?:el|al|un|con el) (?:gerente|encargado|responsable|jefe|due[nñ]o|supervisor)\b",
    # fr
    r"\b(?:plainte|me plaindre|r[eé]clamation|inacceptable|inadmissible|ridicule|honteux|"
    r"quelle honte|"
    r"c'est une honte|scandaleux|"
    r"lamentable|c'est nul|horrible|arnaque|arnaqueurs|escroquerie|escrocs|fraude|furieux|"
    r"furieuse|en col[eè]re|d[eé]go[uû]tant|d[eé]gueulasse|impoli|grossier|malpoli|plus jamais|"
    r"perte de temps|(?:tr[eè]s|tellement) d[eé][cç]ue?s?|(?:d[eé]bit[eé]e?s?|pay[eé]|"
    r"pr[eé]lev[eé]e?s?|factur[eé]e?s?) deux fois|merde|putain|bordel)\b",
    r"\b(?:le|au|un|votre) (?:responsable|g[eé]rant|directeur|patron|manager)\b",
    # de
    r"\b(?:beschwerde|beschweren|inakzeptabel|unversch[aä]mt|unverschaemt|frechheit|skandal|"
    r"skandal[oö]s|l[aä]cherlich|katastrophe|katastrophal|schlimmste|"
    r"abzocke|betrug|betr[uü]ger|w[uü]tend|ver[aä]rgert|ekelhaft|unh[oö]flich|nie wieder|"
    r"zeitverschwendung|geldverschwendung|(?:sehr|so|total) entt[aä]uscht|"
    r"(?:zweimal|doppelt) (?:abgebucht|belastet|berechnet)|schei(?:ß|ss)e?|verdammt)\b",
    r"\bbin (?:echt |so |total |sehr )?sauer\b",
    r"\b(?:war|ist|was f[uü]r ein) (?:echt |einfach |total |wirklich )?(?:furchtbar|schrecklich)"
    r"(?:e|er|es)?\b(?! (?:nett|gern|lieb|sch[oö]n))",
    r"\b(?:ihren|den|einen|dem) (?:chef|vorgesetzten|gesch[aä]ftsf[uü]hrer|manager)\b",
)
# "Can I get my money back if I cancel?": money back asked on a condition, a question
# about the cancellation policy (bot/knowledge.py answers it), not a refund demanded. The
# customer's side cancelling only: "if you can't run the tour" is ours, and demands it.
IF_WE_CANCEL = _any(
    r"\bif (?:i|we|my \w+|our \w+|one of us)\b[^.!?]{0,25}?\b(?:cancel\w*|can'?t|cannot|"
    r"don'?t|won'?t|miss|change (?:my|our) (?:mind|plans)|(?:get|am|are|is) sick)",
    # pt
    r"\bse (?:eu |n[oó]s |a gente |ele |ela )?(?:cancelar(?:mos)?|desistir(?:mos)?|"
    r"n[aã]o (?:puder(?:mos)?|conseguir(?:mos)?|for(?:mos)?|der)|adoecer(?:mos)?)\b",
    # es
    r"\bsi (?:yo |nosotros )?(?:cancel[oa]|cancelamos|cancelara|anul[oa]|anulamos|"
    r"no (?:podemos|puedo|vamos|voy|llegamos|podr[ií]amos)|nos enfermamos|me enfermo)\b",
    # fr
    r"\bsi (?:j'annule|on annule|nous annulons|je dois annuler|on doit annuler|"
    r"on ne peut (?:pas|plus)|je ne peux (?:pas|plus)|nous ne pouvons pas|on est malade|"
    r"je suis malade)",
    # de
    r"\b(?:wenn|falls) (?:ich|wir)\b[^.!?]{0,30}?\b(?:stornier\w*|absag\w*|sage\w* ab|"
    r"nicht (?:kommen|k[oö]nnen|kann)|krank)",
)
_ASKS = re.compile(
    r"\?\s*$|^\W*(?:can|could|will|would|do|does|is|are|what|how|posso|podemos|vou|vamos|"
    r"h[aá]|tem|puedo|hay|me|nos|est-ce|peut-on|on peut|vous|bekomme|bekommen|kann|k[oö]nnen|"
    r"gibt)\b",
    re.IGNORECASE,
)


# Said beside a question on a condition, still a demand: "if you don't pay me back today I
# will dispute the charge", "we paid and you cancelled".
DEMANDS_ANYWAY = _any(
    r"\b(?:dispute|chargeback|charge ?back|pay (?:me|us) back|you cancell?ed|"
    r"(?:we|i) (?:already )?paid)\b",
    r"\b(?:contestar|disputar|estorno|contestation|r[ée]clamation bancaire|r[üu]ckbuchung)\b",
)


def asks_the_policy(text: str) -> bool:
    """Money back asked as a question on a condition: "will I get a refund if we can't
    make it?", "si cancelamos nos devuelven el dinero?"."""
    return (
        IF_WE_CANCEL.search(text) is not None
        and _ASKS.search(text.strip()) is not None
        and DEMANDS_ANYWAY.search(text) is None
    )


# Shouting: several words in capitals (any language's letters) with exclamation marks.
_WORDS_OR_BANG = re.compile(r"[^\W\d_]+|!")


def _shouting(text: str) -> bool:
    """Three words or more in capitals in a row, then "!": "NOBODY CAME TO PICK US UP!",
    "É UMA VERGONHA TOTAL!"."""
    run = 0
    for token in _WORDS_OR_BANG.findall(text):
        if token == "!":
            if run >= 3:
                return True
            continue
        if token.isupper():
            run += 1 if len(token) >= 3 else 0
        else:
            run = 0
    return False


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
        if found and urgency == Urgency.REFUND and asks_the_policy(text):
            continue  # "can I get my money back if I cancel?": the policy is asked
        if found:
            return Concern(urgency, found.group(0))
    if _shouting(text):
        return Concern(Urgency.COMPLAINT, "shouting")
    return None
