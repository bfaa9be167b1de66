"""A guide's languages on the admin's guide page: ops and owners choose them in order of
preference (the first is the one the bot writes in), posted through the real form with
the CSRF token; a language the bot does not write in, or one chosen twice, is refused in
words and changes nothing; sales only read them; another organization's guide is 404.
And what it is for: the next trip offered to the guide arrives in that language."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from models import Channel, Guide, Message, OrganizationNumber, WhatsAppContent, utcnow
from tests.admin.support import the_org
from tests.conftest import import_org
from tests.factories import catalog_data
from tests.languages import english_in, spoken_in
from tests.staff import StaffClient, make_staff

MAYA = "+9779800000003"  # the admin catalog's city-walk guide


def maya(factory: sessionmaker[Session]) -> tuple[int, list[str]]:
    with factory() as s:
        guide = s.scalars(select(Guide).where(Guide.phone == MAYA)).one()
        return guide.id, list(guide.languages)


def choose(*codes: str) -> dict[str, str]:
    """The form's five selects, in order; the rest left blank."""
    padded = [*codes, *[""] * (5 - len(codes))]
    return {f"languages-{n}": code for n, code in enumerate(padded)}


def test_ops_set_a_guides_languages_in_order_of_preference(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    guide_id, before = maya(factory)
    assert before == []
    page = ops.get(f"/admin/guides/{guide_id}")
    assert 'id="languages-form"' in page.text and "has no language set" in page.text
    assert 'name="languages-0"' in page.text and 'name="languages-4"' in page.text
    done = ops.post(f"/admin/guides/{guide_id}/languages", choose("pt", "en"))
    assert "The bot writes to Maya Gurung in Portuguese (also speaks English)." in done.text
    assert maya(factory)[1] == ["pt", "en"]
    # The page shows them chosen, in that order; the list of guides too.
    page = ops.get(f"/admin/guides/{guide_id}").text
    form = page[page.index('id="languages-form"') :]
    assert form.index('<option value="pt" selected>') < form.index('<option value="en" selected>')
    assert "Portuguese, English" in ops.get("/admin/guides").text
    # A blank place between two is closed up; the order kept.
    ops.post(f"/admin/guides/{guide_id}/languages", choose("", "de", "", "fr"))
    assert maya(factory)[1] == ["de", "fr"]
    # None: written to in English.
    cleared = ops.post(f"/admin/guides/{guide_id}/languages", choose())
    assert "has no language set: the bot writes to them in English" in cleared.text
    assert maya(factory)[1] == []


def test_bad_languages_are_refused_in_words_and_change_nothing(
    owner: StaffClient, factory: sessionmaker[Session]
) -> None:
    guide_id, _ = maya(factory)
    owner.post(f"/admin/guides/{guide_id}/languages", choose("es"))
    twice = owner.post(f"/admin/guides/{guide_id}/languages", choose("pt", "en", "pt"))
    assert twice.status_code == 400 and "Portuguese is chosen twice" in twice.text
    # The page again, the choices as they were made (to correct one, not start over).
    form = twice.text[twice.text.index('id="languages-form"') :]
    assert form.count('<option value="pt" selected>') == 2
    assert form.count('<option value="en" selected>') == 1
    unknown = owner.post(f"/admin/guides/{guide_id}/languages", choose("pt", "klingon"))
    assert "“klingon” is not a language the bot writes in" in unknown.text
    assert "choose from English, Portuguese, Spanish, French, German" in unknown.text
    # A form posted without its CSRF token is refused before anything is read.
    forged = owner.client.post(f"/admin/guides/{guide_id}/languages", data=choose("de"))
    assert forged.status_code == 400
    assert maya(factory)[1] == ["es"]


def test_sales_read_a_guides_languages_but_cannot_change_them(
    sales: StaffClient, ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    guide_id, _ = maya(factory)
    ops.post(f"/admin/guides/{guide_id}/languages", choose("fr"))
    page = sales.get(f"/admin/guides/{guide_id}").text
    assert "The bot writes to Maya Gurung in French." in page
    assert 'id="languages-form"' not in page
    refused = sales.post(f"/admin/guides/{guide_id}/languages", choose("de"), follow=False)
    assert refused.status_code == 403
    assert maya(factory)[1] == ["fr"]


def test_another_organizations_guide_is_404(
    owner: StaffClient, client: FlaskClient, factory: sessionmaker[Session]
) -> None:
    guide_id, _ = maya(factory)
    other = catalog_data(
        organization={
            **catalog_data()["organization"],
            "slug": "other-co",
            "numbers": ["+15005550009"],
        },
        staff=[],
        guides=[],
        tours=[],
    )
    with factory() as s:
        make_staff(s, import_org(s, utcnow(), **other), "owner", "boss@other.example")
    intruder = StaffClient(client)
    intruder.login("boss@other.example")
    assert intruder.post(f"/admin/guides/{guide_id}/languages", choose("de")).status_code == 404
    assert maya(factory)[1] == []


def test_a_guide_given_portuguese_in_the_admin_gets_the_next_offer_in_portuguese(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    guide_id, _ = maya(factory)
    ops.post(f"/admin/guides/{guide_id}/languages", choose("pt", "en"))
    # CITY3 has no guide: ops offer it to Maya from its page.
    done = ops.post("/admin/departures/CITY3/guide", {"guide": str(guide_id)})
    assert "Offered to Maya Gurung" in done.text
    with factory() as s:
        (offer,) = s.scalars(select(Message.body).where(Message.to_phone == MAYA)).all()
    assert offer.startswith("📋 Proposta de passeio\nOld City Walk (CITY3)"), offer
    assert english_in(offer) == [] and spoken_in(offer, "pt"), offer


def test_on_whatsapp_alone_ops_are_told_while_the_offer_template_is_not_approved(
    ops: StaffClient, factory: sessionmaker[Session]
) -> None:
    """Guides are reached by SMS when the organization has an SMS number: nothing to wait
    for. On WhatsApp alone, a language without its approved offer template is said."""
    guide_id, _ = maya(factory)
    by_sms = ops.post(f"/admin/guides/{guide_id}/languages", choose("pt"))
    assert "Until WhatsApp approves" not in by_sms.text
    with factory() as s:
        s.execute(delete(OrganizationNumber).where(OrganizationNumber.channel == Channel.SMS))
        s.commit()
    waiting = ops.post(f"/admin/guides/{guide_id}/languages", choose("pt", "en"))
    assert (
        "Until WhatsApp approves the Portuguese template for trip offers (made by `flask "
        "whatsapp sync`), an offer reaching them outside the 24-hour WhatsApp window goes in "
        "the next of their languages approved, or English."
    ) in waiting.text
    with factory() as s:
        s.add(
            WhatsAppContent(
                organization_id=the_org(s).id,
                kind="template_guide_offer",
                language="pt",
                content_sid="HX" + "0" * 32,
                approval_status="approved",
                created_at=utcnow(),
                updated_at=utcnow(),
            )
        )
        s.commit()
    approved = ops.post(f"/admin/guides/{guide_id}/languages", choose("pt", "en"))
    assert "Portuguese (also speaks English)." in approved.text
    assert "Until WhatsApp approves" not in approved.text
