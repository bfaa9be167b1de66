"""Staff accounts: creating them and checking their passwords. Roles decide what the admin
lets each person do (see ROLE_CAN)."""

from __future__ import annotations

import re

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import Organization, Role, StaffUser
from services.errors import ServiceError
from services.phones import normalize_phone

MIN_PASSWORD = 10
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# A hash of a random string: checking an unknown email costs the same as a wrong password,
# so response times do not tell which emails exist.
_DUMMY_HASH = generate_password_hash("no-such-user-timing-equaliser")

# What each role may do beyond reading. Sales work conversations, leads and bookings;
# ops run departures and incidents; owners do everything.
_SALES = frozenset(
    {"reply", "quote", "hold", "cancel_booking", "resend", "take_payment", "edit_booking"}
)
_OPS = _SALES | {"refund", "departures", "incidents"}
# Who may sign in and with what (staff, API tokens), the organization's settings, the
# money figures and the approval of bookings (with approval_required) are the owners' alone.
_OWNER = _OPS | {"access", "reports", "settings", "approve"}
ROLE_CAN: dict[str, frozenset[str]] = {Role.SALES: _SALES, Role.OPS: _OPS, Role.OWNER: _OWNER}


class StaffError(ServiceError):
    pass


def can(user: StaffUser, action: str) -> bool:
    return action in ROLE_CAN.get(user.role, frozenset())


def create_user(
    session: Session,
    org: Organization,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    phone: str | None = None,
) -> StaffUser:
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise StaffError(f"{email!r} is not an email address")
    if role not in {r.value for r in Role}:
        raise StaffError(f"role must be one of owner, ops, sales (not {role!r})")
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"the password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError(f"{email} already has an account")
    user = StaffUser(
        organization_id=org.id,
        email=email,
        name=name.strip() or email,
        role=role,
        phone=normalize_phone(phone) if phone else None,
        password_hash=generate_password_hash(password),
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, email: str, password: str) -> StaffUser | None:
    """The active user with this email and password, or None (never says which was wrong)."""
    email = email.strip().lower()
    if "\x00" in email or len(email) > 254:  # no such address; PostgreSQL refuses a NUL
        check_password_hash(_DUMMY_HASH, password)
        return None
    user = session.scalar(select(StaffUser).where(StaffUser.email == email))
    if user is None or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user


def staff_of(session: Session, org: Organization) -> list[StaffUser]:
    return list(
        session.scalars(
            select(StaffUser)
            .where(StaffUser.organization_id == org.id, StaffUser.active.is_(True))
            .order_by(StaffUser.name)
        )
    )


def everyone_of(session: Session, org: Organization) -> list[StaffUser]:
    """Active and deactivated alike, for the owners' access page."""
    return list(
        session.scalars(
            select(StaffUser)
            .where(StaffUser.organization_id == org.id)
            .order_by(StaffUser.active.desc(), StaffUser.name)
        )
    )


def user_by_email(session: Session, email: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.email == email.strip().lower()))
    if user is None:
        raise StaffError(f"no staff account for {email}")
    return user


def end_sessions(user: StaffUser) -> None:
    """Every admin session of this person ends at its next request (admin/auth.py compares
    the generation each session was made in with this one), wherever the cookie is."""
    user.session_generation = (user.session_generation or 0) + 1


def deactivate(session: Session, user: StaffUser, *, by: StaffUser | None = None) -> None:
    """The person can no longer log in, and is logged out everywhere at once. Their name
    stays on everything they did."""
    if by is not None and by.id == user.id:
        raise StaffError("You cannot deactivate your own account; ask another owner.")
    if user.role == Role.OWNER and user.active:
        owners = session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(
                StaffUser.organization_id == user.organization_id,
                StaffUser.role == Role.OWNER,
                StaffUser.active.is_(True),
            )
        )
        if (owners or 0) <= 1:
            raise StaffError(f"{user.email} is the only active owner; make another owner first.")
    user.active = False
    end_sessions(user)


def reactivate(user: StaffUser) -> None:
    user.active = True


# --- invitations and roles (the owners' Access page) ----------------------------------------

INVITE_SALT = "staff-invite"
INVITE_DAYS = 7


def _check_role(role: str) -> str:
    if role not in {r.value for r in Role}:
        raise StaffError(f"role must be one of owner, ops, sales (not {role!r})")
    return role


def invite(
    session: Session,
    org: Organization,
    *,
    email: str,
    name: str,
    role: str,
    phone: str | None = None,
) -> StaffUser:
    """An account without a password: the person sets one from the invitation link (which
    the owner passes on) and can log in from then on."""
    email = email.strip().lower()
    if not EMAIL.match(email) or len(email) > 254:
        raise StaffError(f"{email!r} is not an email address")
    _check_role(role)
    if session.scalar(select(StaffUser.id).where(StaffUser.email == email)) is not None:
        raise StaffError(f"{email} already has an account")
    number = normalize_phone(phone) if phone else None  # InvalidPhone says what is wrong
    user = StaffUser(
        organization_id=org.id,
        email=email,
        name=name.strip() or email,
        role=role,
        phone=number,
        password_hash=None,
    )
    session.add(user)
    session.flush()
    return user


def invite_token(user: StaffUser, secret: str) -> str:
    """Good for INVITE_DAYS, and only until the person's session generation moves (setting
    the password moves it: the link works once)."""
    return URLSafeTimedSerializer(secret, salt=INVITE_SALT).dumps(
        {"u": user.id, "g": user.session_generation or 0}
    )


def user_for_invite(session: Session, token: str, secret: str) -> StaffUser:
    try:
        data = URLSafeTimedSerializer(secret, salt=INVITE_SALT).loads(
            token, max_age=INVITE_DAYS * 24 * 3600
        )
    except SignatureExpired as exc:
        raise StaffError("This invitation has expired; ask an owner for a new one.") from exc
    except BadSignature as exc:
        raise StaffError("This invitation link is not valid.") from exc
    user = session.get(StaffUser, int(data.get("u", 0))) if isinstance(data, dict) else None
    if user is None or not user.active or (user.session_generation or 0) != data.get("g"):
        raise StaffError("This invitation has been used or withdrawn; ask an owner for a new one.")
    return user


def set_password(user: StaffUser, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise StaffError(f"The password needs at least {MIN_PASSWORD} characters.")
    if len(password) > 200:
        raise StaffError("The password is too long.")
    user.password_hash = generate_password_hash(password)
    end_sessions(user)  # the invitation (and any other session) stops working


def set_role(session: Session, user: StaffUser, role: str, *, by: StaffUser) -> None:
    _check_role(role)
    if user.id == by.id:
        raise StaffError("You cannot change your own role; ask another owner.")
    if user.role == Role.OWNER and role != Role.OWNER and user.active:
        owners = session.scalar(
            select(func.count())
            .select_from(StaffUser)
            .where(
                StaffUser.organization_id == user.organization_id,
                StaffUser.role == Role.OWNER,
                StaffUser.active.is_(True),
            )
        )
        if (owners or 0) <= 1:
            raise StaffError(f"{user.email} is the only active owner; make another owner first.")
    user.role = role
    end_sessions(user)  # what they may do changed: they log in again
