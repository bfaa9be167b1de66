"""A guide's details staff keep in the admin's guide page: the languages the bot writes to
them in, in the guide's order of preference (the first is the one used; the catalog file
can set them too, services/catalog.py)."""

from __future__ import annotations

from collections.abc import Sequence

from babel import Locale
from sqlalchemy.orm import Session

from models import Channel, Guide, Organization
from services import outbox, whatsapp_templates
from services.errors import ServiceError
from services.i18n import DEFAULT_LANGUAGE, SUPPORTED_LANGUAGES, guide_languages


class GuideError(ServiceError):
    pass


def language_name(code: str) -> str:
    """ "pt" -> "Portuguese", for staff (in English, as the admin is)."""
    return str(Locale("en").languages.get(code, code))


def language_choices() -> list[tuple[str, str]]:
    """The languages a guide can be written to in: [("en", "English"), ...]."""
    return [(code, language_name(code)) for code in SUPPORTED_LANGUAGES]


def checked_languages(codes: Sequence[str]) -> list[str]:
    """The codes chosen, blanks left out, in order; a code the product does not write in,
    or one chosen twice, is refused in words."""
    chosen = [code.strip().lower() for code in codes if code and code.strip()]
    for code in chosen:
        if code not in SUPPORTED_LANGUAGES:
            raise GuideError(
                "“{code}” is not a language the bot writes in: choose from {names}.",
                code=code[:20],
                names=", ".join(name for _, name in language_choices()),
            )
    for n, code in enumerate(chosen):
        if code in chosen[:n]:
            raise GuideError(
                "{name} is chosen twice: choose each language once, in order of preference.",
                name=language_name(code),
            )
    return chosen


def set_languages(session: Session, guide: Guide, codes: Sequence[str]) -> list[str]:
    """Sets the guide's languages (none: they are written to in English)."""
    guide.languages = checked_languages(codes)
    session.flush()
    return list(guide.languages)


def offer_template_pending(session: Session, org: Organization, guide: Guide) -> str | None:
    """The guide's first language when a trip offered to them on WhatsApp outside the
    24-hour window cannot go in it yet: the organization reaches guides on WhatsApp (it has
    no SMS number) and WhatsApp has not approved the offer's template in that language (or
    it was never made: `flask whatsapp sync` makes one for each language a guide speaks).
    Such an offer goes with the template of a later language of theirs, or English
    (services.notify.guide_template). None when there is nothing to wait for."""
    spoken = guide_languages(guide.languages)
    if not spoken or spoken[0] == DEFAULT_LANGUAGE:
        return None
    if outbox.staff_address(session, org, guide.phone)["channel"] != Channel.WHATSAPP:
        return None  # offers go by SMS, in their language, whatever the templates
    kind = whatsapp_templates.kind_of("guide_offer")
    made = whatsapp_templates.contents(session, org, spoken[0], [kind]).get(kind)
    if made is not None and made.approval_status == whatsapp_templates.APPROVED:
        return None
    return spoken[0]
