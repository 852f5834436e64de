"""Contacts as vCards (version 3.0, which phones and mail programs read), with vobject."""

import vobject


def vcard(contact):
    """One contact as a vCard: names as written (the Latin spelling as nickname), the current
    organisations, position, email, phone and mobile."""
    card = vobject.vCard()
    card.add("uid").value = f"urn:lotse:contact:{contact.id}"
    card.add("fn").value = contact.display_name
    card.add("n").value = vobject.vcard.Name(
        family=contact.last_name or "", given=contact.first_name or "",
        prefix=contact.academic_title or "")
    if contact.latin_name:
        card.add("nickname").value = contact.latin_name
    organisations = [a.organisation.name for a in contact.current_affiliations]
    if organisations:
        card.add("org").value = [organisations[0]]
    if contact.position:
        card.add("title").value = contact.position
    if contact.email:
        email = card.add("email")
        email.value, email.type_param = contact.email, "INTERNET"
    for attribute, kind in (("phone", "WORK"), ("mobile", "CELL")):
        if getattr(contact, attribute):
            phone = card.add("tel")
            phone.value, phone.type_param = getattr(contact, attribute), kind
    return card.serialize()


def vcards(contacts):
    """Many contacts as one `.vcf` text, one card after the other."""
    return "".join(vcard(contact) for contact in contacts)
