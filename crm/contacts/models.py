"""Contacts: the people the team meets, and the organisations they belong to."""

import functools
import unicodedata
from datetime import date, datetime

import phonenumbers
import sqlalchemy as sa
from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import (
    AuthoredMixin,
    LabelledEnum,
    SoftDeleteMixin,
    TimestampMixin,
    UTCDateTime,
    VersionedMixin,
    bin_index,
    live_index,
)
from crm.core.text import name_key, search_key, sort_key
from crm.extensions import db

# The languages a contact may prefer, as ISO 639-1 codes; named by Babel in the user's language.
CONTACT_LANGUAGES = ("de", "en", "fr", "es", "it", "pl", "cs", "nl", "pt", "sv", "da", "fi",
                     "hu", "ro", "tr", "ru", "uk", "ar", "he", "hi", "zh", "ja", "ko", "vi", "th")


def language_name(code):
    if not code:
        return ""
    return Locale.parse(str(get_locale())).languages.get(code, code)


# What an erased person is called wherever a name would be.
ERASED_NAME = _l("Erased person")


class LegalBasis(LabelledEnum):
    """Why the agency may keep a person's data (DSGVO Art. 6 (1))."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTEREST = "legitimate_interest"

    @classmethod
    def _labels(cls):
        return {
            cls.CONSENT: _l("Consent (Art. 6 (1) a)"),
            cls.CONTRACT: _l("Contract (Art. 6 (1) b)"),
            cls.LEGAL_OBLIGATION: _l("Legal obligation (Art. 6 (1) c)"),
            cls.PUBLIC_TASK: _l("Public task (Art. 6 (1) e)"),
            cls.LEGITIMATE_INTEREST: _l("Legitimate interest (Art. 6 (1) f)"),
        }


class ContactTag(db.Model):
    """A free label on a contact."""

    __tablename__ = "contact_tags"

    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(sa.String(50), primary_key=True, index=True)


class Affiliation(TimestampMixin, db.Model):
    """A person's place in an organisation: a role, now or in the past."""

    __tablename__ = "affiliations"
    __table_args__ = (sa.UniqueConstraint("contact_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False, index=True)
    role: Mapped[str | None] = mapped_column(sa.String(200))
    is_current: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True)

    contact: Mapped["Contact"] = relationship(back_populates="affiliations")
    # Loaded with the affiliation: a page listing them needs no query per row.
    organisation: Mapped["Organisation"] = relationship("Organisation", lazy="joined")  # noqa: F821


class Contact(TimestampMixin, AuthoredMixin, SoftDeleteMixin, VersionedMixin, db.Model):
    """A person the team deals with, with what data protection asks to know about them."""

    __tablename__ = "contacts"
    __table_args__ = (live_index("ix_contacts_list", "name_sort", "id"),
                      # The narrowest index of the live ones, which the list's total counts.
                      live_index("ix_contacts_live", "id"),
                      bin_index("ix_contacts_bin", "name_sort", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(sa.String(100))
    last_name: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    # How a name written in another script is spelled in Latin letters ("Kim Min-jung").
    latin_name: Mapped[str | None] = mapped_column(sa.String(200))
    academic_title: Mapped[str | None] = mapped_column(sa.String(50))
    position: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(254), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(20))  # E.164
    mobile: Mapped[str | None] = mapped_column(sa.String(20))  # E.164
    language: Mapped[str | None] = mapped_column(sa.String(5))
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    legal_basis: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    source: Mapped[str | None] = mapped_column(sa.String(300))
    # When the person was told that the agency keeps their data (Art. 14 DSGVO).
    informed_on: Mapped[date | None] = mapped_column(sa.Date)
    # Consent to newsletters and invitations, kept apart from the legal basis of the contact.
    marketing_consent: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                                    server_default=sa.false())
    # The person objected (Art. 21) or asked not to be contacted: no follow-ups, no mailings.
    do_not_contact: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False,
                                                 server_default=sa.false())
    # When an admin last decided to keep the data of a person gone quiet (retention review).
    retention_reviewed_on: Mapped[date | None] = mapped_column(sa.Date)
    # When the person's data was erased (Art. 17): the row stays, anonymous, for the counts.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept beside the name by derive_keys(): German sorting and folded search.
    name_sort: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    # The name folded, its words in order, for finding the same person entered twice
    # ("Müller, Jürgen" and "Juergen Mueller" alike); empty once erased.
    name_key: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="",
                                          server_default="", index=True)
    search_text: Mapped[str] = mapped_column(sa.Text, nullable=False)

    owner: Mapped["User | None"] = relationship("User", foreign_keys=[owner_id])  # noqa: F821
    affiliations: Mapped[list[Affiliation]] = relationship(
        back_populates="contact", cascade="all, delete-orphan",
        order_by="(Affiliation.is_current.desc(), Affiliation.id)")
    tag_rows: Mapped[list[ContactTag]] = relationship(cascade="all, delete-orphan",
                                                       order_by=ContactTag.tag)

    def __str__(self):
        return self.display_name

    @property
    def plain_name(self):
        """The name as its owner writes it: 김민정 and 张伟 family name first, without a space."""
        if self.erased_at is not None:
            return str(ERASED_NAME)
        return plain_name(self.first_name, self.last_name)

    @property
    def display_name(self):
        """The name with the academic title: Dr. Jürgen Weiß."""
        return titled(self.academic_title, self.plain_name)

    @property
    def visible_affiliations(self):
        """The affiliations with organisations that are not deleted."""
        return [a for a in self.affiliations if not a.organisation.is_deleted]

    @property
    def current_affiliations(self):
        return [a for a in self.visible_affiliations if a.is_current]

    @property
    def tags(self):
        return [row.tag for row in self.tag_rows]

    @property
    def language_name(self):
        return language_name(self.language)

    @property
    def legal_basis_enum(self):
        return LegalBasis(self.legal_basis)

    def formatted_phone(self, attribute="phone"):
        value = getattr(self, attribute)
        if not value:
            return ""
        return phonenumbers.format_number(phonenumbers.parse(value),
                                          phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def derive_keys(self):
        """Refresh the keys kept beside the name; the services call it after every change."""
        keys = name_keys(self.first_name, self.last_name, self.latin_name, self.email,
                         self.tags)
        if self.erased_at is not None:
            keys.update(search_text="", name_key="")
        for key, value in keys.items():
            setattr(self, key, value)


def plain_name(first_name, last_name):
    """A name as its owner writes it: 김민정 and 张伟 family name first, without a space."""
    first, last = first_name or "", last_name or ""
    if first and _is_east_asian(first + last):
        return last + first
    return f"{first} {last}".strip()


def titled(academic_title, name):
    """A name with its academic title before it: Dr. Jürgen Weiß."""
    return f"{academic_title} {name}" if academic_title else name


def name_keys(first_name, last_name, latin_name, email, tags):
    """The keys kept beside a person's name: `name_sort`, `search_text`, `name_key`."""
    # Latin names sort by family name; a name in another script by its Latin spelling.
    if latin_name and _is_east_asian(last_name):
        basis = latin_name
    else:
        basis = f"{last_name} {first_name or ''}"
    return {"name_sort": sort_key(basis)[:300],
            "search_text": search_key(plain_name(first_name, last_name), latin_name, email,
                                      *tags),
            "name_key": name_key(first_name, last_name)}


def _is_east_asian(text):
    """Whether a name is written in Hangul, Chinese characters or Japanese kana."""
    return not text.isascii() and any(map(_is_east_asian_letter, text))


@functools.cache
def _is_east_asian_letter(letter):
    return unicodedata.name(letter, "").startswith(("HANGUL", "CJK", "HIRAGANA", "KATAKANA"))
