"""JSON Schemas of the API's records, their input shapes and enumerations, for the OpenAPI
document. Enumerations come from the models, limits from the services, so the document follows
the code."""

from crm.activities.models import ActivityKind
from crm.contacts.models import CONTACT_LANGUAGES, LegalBasis
from crm.core.lists import MAX_PER_PAGE
from crm.core.validation import LONG_TEXT_MAX
from crm.events.models import COST_MAX_EUR, AttendanceStatus, EventKind
from crm.leads.models import (
    BusinessActivity,
    InvestmentType,
    LeadSource,
    Likelihood,
    Stage,
    Status,
)
from crm.leads.rules import LIKELIHOOD_WEIGHTS
from crm.organisations.models import OrganisationKind, Sector


def ref(name):
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema):
    """`schema` or null: a field the client may leave empty."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [schema["type"], "null"]}


def _text(max_length, **extra):
    return {"type": "string", "maxLength": max_length, **extra}


def _ids(description):
    return {"type": "array", "items": {"type": "integer", "minimum": 1}, "uniqueItems": True,
            "description": description}


def _enum(description, members):
    return {"type": "string", "enum": [str(m) for m in members], "description": description}


ENUMERATIONS = {
    "CountryCode": {
        "type": "string", "pattern": "^[A-Z]{2}$",
        "description": "An ISO 3166-1 alpha-2 country code. Input may be in lower case; codes "
                       "that are not countries (XX, EU, ...) are refused.",
        "examples": ["DE", "KR", "US", "CN"],
    },
    "OrganisationKind": _enum("What sort of body an organisation is.", OrganisationKind),
    "Sector": _enum("The industries the agency works with.", Sector),
    "LegalBasis": _enum("Why the agency may keep a person's data (GDPR Art. 6 (1)).",
                        LegalBasis),
    "ContactLanguage": _enum("A contact's preferred language (ISO 639-1).", CONTACT_LANGUAGES),
    "EventKind": _enum("What sort of event it is; a `trip` holds other events.", EventKind),
    "AttendanceStatus": _enum("How far a person's part in an event went.", AttendanceStatus),
    "Stage": _enum(
        "How far a lead has come, in this order: `lead` (possible interest, e.g. met at an "
        "event), `prospect` (a location project the region is considered for), `active` "
        "(project manager assigned, sites and offers in preparation), `decision` (the investor "
        "decided for the region), `won` (confirmed by a manager who is not the lead's project "
        "manager). Entering a stage needs the fields of every stage up to it.", Stage),
    "Status": _enum(
        "How a lead is doing, apart from its stage. `lost` and `abandoned` need a reason and a "
        "date, `lost` also where the investment went; a lost lead keeps the stage it reached. "
        "`won` comes only with the stage `won`, and leaving that stage sets `ongoing` again.",
        Status),
    "InvestmentType": _enum("What kind of investment a lead is about.", InvestmentType),
    "BusinessActivity": _enum("What the investor will do at the site.", BusinessActivity),
    "Likelihood": _enum(
        "How likely the lead is to be won; its CAPEX counts with this weight in the weighted "
        "pipeline: " + ", ".join(f"`{value}` {weight:.0%}"
                                 for value, weight in LIKELIHOOD_WEIGHTS.items()) + ".",
        Likelihood),
    "LeadSource": _enum("Where a lead came from.", LeadSource),
    "ActivityKind": _enum("What sort of contact an activity records.", ActivityKind),
}

RECORD_FIELDS = {
    "id": {"type": "integer", "minimum": 1, "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
    "deleted_at": {"type": ["string", "null"], "format": "date-time", "readOnly": True,
                   "description": "When the record was deleted; only admins see deleted "
                                  "records, everyone else gets 404."},
    "version": {"type": "integer", "minimum": 1, "readOnly": True,
                "description": "Raised by every change; send it back with a PATCH."},
}

VERSION_INPUT = {"type": "integer",
                 "description": "The `version` of the record as the client last saw it; if it "
                                "changed since, the answer is 409 and nothing is saved."}

TAGS = {"type": "array", "items": _text(50, minLength=1), "maxItems": 20,
        "description": "Free labels, at most 20 of at most 50 characters. Input may also be "
                       "one comma-separated text."}
TAGS_INPUT = {
    "anyOf": [{**TAGS, "items": {**TAGS["items"], "pattern": r"\S"}},
              {"type": "string", "maxLength": 20 * 51}, {"type": "null"}],
    "description": "Free labels, at most 20 of at most 50 characters, none empty: a list, or "
                   "one comma-separated text (whose empty pieces are left out); null: none. "
                   "Blanks are trimmed; of two that differ only in case the first is kept."}


def _organisation_fields():
    return {
        "name": _text(300, minLength=1, examples=["OptoNet e.V."]),
        "kind": ref("OrganisationKind"),
        "country": _nullable(ref("CountryCode")),
        "city": _nullable(_text(200, examples=["Jena"])),
        "address": _nullable(_text(1000, description="Several lines are allowed.")),
        "website": _nullable(_text(500, format="uri", description="An http or https address. "
                                   "Input without a scheme (`www.example.com`) gets https.")),
        "sectors": {"type": "array", "items": ref("Sector"), "uniqueItems": True},
        "parent_id": _nullable({"type": "integer", "minimum": 1,
                                "description": "The organisation this one belongs to."}),
        "description": _nullable(_text(LONG_TEXT_MAX)),
        "tags": TAGS,
    }


def _affiliation(output):
    schema = {
        "type": "object",
        "required": ["organisation_id", "role", "is_current"] if output else ["organisation_id"],
        "properties": {
            "organisation_id": {"type": "integer", "minimum": 1},
            "role": _nullable(_text(200, examples=["Managing Director"])),
            "is_current": {"type": "boolean", "default": True,
                           "description": "false for a past role."},
        },
    }
    if not output:
        schema["additionalProperties"] = False
    return schema


def _contact_fields(output):
    phone = (_nullable(_text(16, pattern=r"^\+[1-9][0-9]{1,14}$",
                             description="International E.164 form.")) if output else
             _nullable(_text(40, description="Any common spelling; a number without country "
                                             "code is read as a German one. Stored in E.164.")))
    return {
        "first_name": _nullable(_text(100, examples=["Min-jung"])),
        "last_name": _text(100, minLength=1, examples=["Kim"]),
        "latin_name": _nullable(_text(200, description="How a name in another script is "
                                                       "spelled in Latin letters.")),
        "academic_title": _nullable(_text(50, examples=["Dr."])),
        "position": _nullable(_text(200)),
        "email": _nullable(_text(254, format="email",
                                 description="Stored in lower case; a second contact with the "
                                             "same address is a possible duplicate.")),
        "phone": phone,
        "mobile": phone,
        "language": _nullable(ref("ContactLanguage")),
        "affiliations": {"type": "array", "items": ref("Affiliation" if output
                                                       else "AffiliationInput"),
                         "description": "The organisations the person works for, now or in "
                                        "the past. A PATCH with this field replaces them all."},
        "owner_id": _nullable({"type": "integer", "minimum": 1,
                               "description": "The team member who looks after the contact; "
                                              "the creator unless given."}),
        "legal_basis": {**ref("LegalBasis"),
                        "description": "Defaults to the agency's configured basis "
                                       "(`public_task`)."},
        "source": _nullable(_text(300, description="Where the data came from (GDPR Art. 14).")),
        "informed_on": _day("The day the person was told that the agency keeps their data "
                            "(GDPR Art. 14); not in the future.", output),
        "marketing_consent": _flag("Consent to newsletters and invitations, kept apart from "
                                   "the legal basis."),
        "do_not_contact": _flag("The person objected or asked not to be contacted: no "
                                "follow-ups after events, no mailings."),
        "tags": TAGS,
    }


def _attendee(output):
    schema = {
        "type": "object",
        "required": ["contact_id", "status"] if output else ["contact_id"],
        "properties": {
            "contact_id": {"type": "integer", "minimum": 1},
            "status": {**ref("AttendanceStatus"), "default": "invited"},
        },
    }
    if not output:
        schema["additionalProperties"] = False
    return schema


def _event_fields(output):
    return {
        "name": _text(300, minLength=1, examples=["Business breakfast Seoul"]),
        "kind": ref("EventKind"),
        "starts_on": {"type": "string", "format": "date"},
        "ends_on": {"type": "string", "format": "date",
                    "description": "Not before `starts_on`; the start day when not given."},
        "city": _nullable(_text(200)),
        "country": _nullable(ref("CountryCode")),
        "parent_id": _nullable({"type": "integer", "minimum": 1,
                                "description": "The delegation trip the event is part of; "
                                               "the event must lie within the trip's dates, "
                                               "and a trip is part of no other event."}),
        "partner_ids": _ids("Partner organisations that co-organise the event."),
        "attendees": {"type": "array", "items": ref("Attendee" if output else "AttendeeInput"),
                      "description": "A PATCH with this field replaces the list."},
        "team_member_ids": _ids("The agency's team members taking part (active users)."),
        "description": _nullable(_text(LONG_TEXT_MAX)),
        "cost_eur": {**_amount(COST_MAX_EUR, units=True, output=output, description=(
            "What the trip or event cost the agency (travel, venue, catering, fees), in whole "
            "euros; the reports divide it by the leads and jobs it brought. null: not "
            "recorded.")), "examples": [38500]},
    }


def _amount(maximum, *, units, output, description):
    """A whole, non-negative number: money in whole euros, or a number of jobs. Input may also
    be text as a German user types it."""
    number = {"type": "integer", "minimum": 0, "maximum": maximum}
    if output:
        return {**_nullable(number), "description": description}
    examples = ["12.500.000", "12,5 Mio."] if units else ["1.200"]
    text = _text(50, examples=examples, description=(
        "German notation: dots group thousands, a comma is the decimal mark"
        + (", `Tsd.`, `Mio.` and `Mrd.` multiply, a trailing `€` or `EUR` is ignored; "
           "rounded to whole euros." if units else "; whole numbers only.")))
    return {"anyOf": [number, text, {"type": "null"}],
            "description": description + " An integer, or text such as "
                           + " or ".join(f"`{e}`" for e in examples) + "."}


def _flag(description):
    return {"type": "boolean", "default": False, "description": description}


def _day(description, output):
    schema = _nullable({"type": "string", "format": "date", "description": description})
    if not output:
        schema["description"] += " Input may also be German (21.11.2026)."
    return schema


def _lead_fields(output):
    """The lead's fields as a client reads them (`output`) or sends them."""
    def figure(name, label, maximum, units=False):
        flag = name.removesuffix("_eur")  # capex_is_estimate, new_jobs_is_estimate
        return {
            name: _amount(maximum, units=units, output=output, description=label),
            f"{flag}_is_estimate": _flag(f"Whether `{name}` is an estimate."),
            f"{flag}_unknown": _flag(f"Whether the client cannot say `{name}` (counts as given "
                                     "for the stage `prospect`)."),
        }

    fields = {
        "title": _text(300, minLength=1, examples=["New sensor plant in Thuringia"]),
        "organisation_id": {"type": "integer", "minimum": 1,
                            "description": "The investor organisation."},
        "contact_ids": _ids("The investor's people on this lead. A PATCH with this field "
                            "replaces the list."),
        "stage": {**ref("Stage"), "description": (
            "A new lead starts at `lead`. Sent with a POST or PATCH, a different stage is "
            "moved to by the rules of `POST /leads/{lead_id}/stage`.")},
        "status": {**ref("Status"), "description": (
            "A new lead starts `ongoing`. Sent with a POST or PATCH, a different status is "
            "changed by the rules of `POST /leads/{lead_id}/stage`.")},
        "owner_id": _nullable({"type": "integer", "minimum": 1,
                               "description": "The project manager (an active user); the "
                                              "creator unless given."}),
        "team_member_ids": _ids("Further team members on the lead (active users); they may "
                                "change it and see it when it is confidential."),
        "sector": _nullable(ref("Sector")),
        "country": {**_nullable(ref("CountryCode")),
                    "description": "The investor's country of origin."},
        "investment_type": _nullable(ref("InvestmentType")),
        "business_activity": _nullable(ref("BusinessActivity")),
        "is_new_investor": _nullable({"type": "boolean",
                                      "description": "A new investor (true) or one already in "
                                                     "the region (false); null: not known."}),
        "description": _nullable(_text(LONG_TEXT_MAX)),
        **figure("capex_eur", "Planned investment (CAPEX) in whole euros.", 10**13, units=True),
        **figure("new_jobs", "Planned new jobs.", 10**7),
        **figure("safeguarded_jobs", "Jobs the investment safeguards.", 10**7),
        "realised_capex_eur": _amount(10**13, units=True, output=output,
                                      description="Realised investment in whole euros."),
        "realised_new_jobs": _amount(10**7, units=False, output=output,
                                     description="New jobs created."),
        "realised_safeguarded_jobs": _amount(10**7, units=False, output=output,
                                             description="Jobs safeguarded."),
        "likelihood": _nullable(ref("Likelihood")),
        "expected_decision_on": _day("When the investor is expected to decide.", output),
        "candidate_sites": _nullable(_text(LONG_TEXT_MAX)),
        "competing_locations": _nullable(_text(LONG_TEXT_MAX)),
        "chosen_site": _nullable(_text(300)),
        "decided_on": _day("When the investor decided for the region.", output),
        "source": _nullable(ref("LeadSource")),
        "source_event_id": _nullable({"type": "integer", "minimum": 1,
                                      "description": "The trip or event the lead came from."}),
        "referral_partner_id": _nullable({"type": "integer", "minimum": 1,
                                          "description": "The partner organisation that "
                                                         "referred the lead."}),
        "is_confidential": _flag("Seen only by the owner, the team members, managers and "
                                 "admins; for everyone else it does not exist (404)."),
        "lost_reason": _nullable(_text(LONG_TEXT_MAX, description="Why the lead was lost or "
                                                                  "abandoned.")),
        "closed_on": _day("When the lead was lost or abandoned.", output),
        "lost_to": _nullable(_text(200, description="The country or region the investment "
                                                    "went to instead.")),
    }
    if output:
        fields.update({
            "stage_entered_at": {"type": "string", "format": "date-time", "readOnly": True},
            "won_confirmed_by_id": {"type": ["integer", "null"], "readOnly": True,
                                    "description": "The manager who confirmed the win."},
            "won_confirmed_at": {"type": ["string", "null"], "format": "date-time",
                                 "readOnly": True},
        })
    else:
        fields["override_reason"] = _nullable(_text(2000, description=(
            "With a new `stage`: a manager moves the lead although the stage's requirements "
            "are not met; the reason is kept in the stage history and the audit log.")))
    return fields


def _stage_move():
    fields = _lead_fields(False)
    return {
        "type": "object",
        "description": (
            "A stage move (`stage`, and `override_reason` for a manager's override), a status "
            "change (`status`, with `lost_reason`, `closed_on` and `lost_to` for `lost` and "
            "`abandoned`), or both: the stage is moved first. Moving forward needs the fields "
            "of every stage up to the new one; only a manager who is not the lead's project "
            "manager moves it to `won`; leaving `won` sets the status `ongoing` again; a lost or "
            "abandoned lead moves only after it is reopened (`{\"status\": \"ongoing\"}`). "
            "`version` is optional: if given and out of date, the answer is 409."),
        "properties": {
            "stage": ref("Stage"),
            "override_reason": fields["override_reason"],
            "status": ref("Status"),
            "lost_reason": fields["lost_reason"],
            "closed_on": fields["closed_on"],
            "lost_to": fields["lost_to"],
            "version": VERSION_INPUT,
        },
        "anyOf": [{"required": ["stage"]}, {"required": ["status"]}],
        "additionalProperties": False,
        "examples": [
            {"stage": "prospect"},
            {"stage": "active", "override_reason": "The board decided to staff it now.",
             "version": 4},
            {"status": "lost", "lost_reason": "Lower energy prices abroad.",
             "closed_on": "2025-11-03", "lost_to": "Poland"},
            {"status": "ongoing"},
        ],
    }


def _pipeline_figures(stage):
    properties = {
        "count": {"type": "integer", "minimum": 0, "description": "Number of leads."},
        "capex_eur": {"type": "integer", "minimum": 0,
                      "description": "Planned CAPEX in whole euros (leads without: 0)."},
        "new_jobs": {"type": "integer", "minimum": 0, "description": "Planned new jobs."},
        "weighted_capex_eur": {"type": "integer", "minimum": 0,
                               "description": "CAPEX weighted by likelihood (see "
                                              "`Likelihood`; without a likelihood: 0)."},
    }
    if stage:
        properties = {"stage": ref("Stage"), **properties}
    return {"type": "object", "required": list(properties), "properties": properties,
            "additionalProperties": False}


def _record(description, fields, example, *, extra=None):
    properties = {**RECORD_FIELDS, **(extra or {}), **fields}
    return {"type": "object", "description": description, "required": list(properties),
            "properties": properties, "examples": [example]}


def _as_input(fields):
    """What a client may send for each field: a list may also be null or empty text (none),
    tags also one comma-separated text."""
    result = {}
    for name, schema in fields.items():
        if name == "tags":
            schema = TAGS_INPUT
        elif schema.get("type") == "array":
            schema = {"anyOf": [schema, {"type": "null"}, {"const": ""}],
                      "description": schema.get("description", "") + " Null: none."}
        result[name] = schema
    return result


def _create_input(description, fields, required, example):
    return {"type": "object", "description": description, "required": required,
            "properties": _as_input(fields), "additionalProperties": False,
            "examples": [example]}


def _update_input(description, fields, example):
    return {"type": "object", "description": description, "required": ["version"],
            "properties": {"version": VERSION_INPUT, **_as_input(fields)},
            "additionalProperties": False, "examples": [example]}


def _list(item):
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": ref(item), "maxItems": MAX_PER_PAGE},
            "next_cursor": {"type": ["string", "null"],
                            "description": "Pass as `cursor` for the next page; null on the "
                                           "last page."},
        },
    }


_STAMPS = {"created_at": "2026-03-05T09:30:00+00:00", "updated_at": "2026-03-05T09:30:00+00:00",
           "deleted_at": None, "version": 1}

ORGANISATION_EXAMPLE = {
    "name": "OptoNet e.V.", "kind": "partner", "country": "DE", "city": "Jena",
    "address": None, "website": "https://optonet-jena.de", "sectors": ["optics_photonics"],
    "parent_id": None, "description": "Competence network for optics and photonics.",
    "tags": ["Network"],
}
CONTACT_EXAMPLE = {
    "first_name": "민정", "last_name": "김", "latin_name": "Kim Min-jung",
    "academic_title": "Dr.", "position": "Head of Investment", "email": "mj.kim@example.kr",
    "phone": "+82221234567", "mobile": None, "language": "ko",
    "affiliations": [{"organisation_id": 12, "role": "Head of Investment", "is_current": True}],
    "owner_id": 3, "legal_basis": "public_task", "source": "Met at the business breakfast Seoul",
    "informed_on": "2025-05-21", "marketing_consent": False, "do_not_contact": False,
    "tags": [],
}
LEAD_EXAMPLE = {
    "title": "Sensor plant Thuringia", "organisation_id": 12, "contact_ids": [31],
    "stage": "active", "status": "ongoing", "owner_id": 3, "team_member_ids": [4],
    "sector": "sensors", "country": "KR", "investment_type": "greenfield",
    "business_activity": "manufacturing", "is_new_investor": True,
    "description": "Met at the business breakfast Seoul; looking for a site near Erfurt.",
    "capex_eur": 12500000, "capex_is_estimate": True, "capex_unknown": False,
    "new_jobs": 120, "new_jobs_is_estimate": True, "new_jobs_unknown": False,
    "safeguarded_jobs": None, "safeguarded_jobs_is_estimate": False,
    "safeguarded_jobs_unknown": False, "realised_capex_eur": None, "realised_new_jobs": None,
    "realised_safeguarded_jobs": None, "likelihood": "medium",
    "expected_decision_on": "2026-06-30", "candidate_sites": "Erfurter Kreuz; Jena-Süd",
    "competing_locations": "Poland, Czech Republic", "chosen_site": None, "decided_on": None,
    "source": "trip", "source_event_id": 8, "referral_partner_id": 14, "is_confidential": False,
    "lost_reason": None, "closed_on": None, "lost_to": None,
}
EVENT_EXAMPLE = {
    "name": "Business breakfast Seoul", "kind": "business_breakfast",
    "starts_on": "2025-05-20", "ends_on": "2025-05-20", "city": "Seoul", "country": "KR",
    "parent_id": 7, "partner_ids": [12], "attendees": [{"contact_id": 31, "status": "met"}],
    "team_member_ids": [3, 4], "description": None, "cost_eur": 2400,
}


# What `next_cursor` looks like (opaque to clients): the cursor after the record 12.
CURSOR_EXAMPLE = "eyJhZnRlciI6MTJ9"


def component_schemas():
    """The schemas of the organisations, contacts and events and what they are built from;
    each list's example is a page of its record's example."""
    schemas = _component_schemas()
    for name, schema in schemas.items():
        if name.endswith("List") and "examples" in schemas.get(name.removesuffix("List"), {}):
            record = schemas[name.removesuffix("List")]["examples"][0]
            schema["examples"] = [{"items": [record], "next_cursor": CURSOR_EXAMPLE}]
    return schemas


def _component_schemas():
    return {
        **ENUMERATIONS,
        "Organisation": _record(
            "A company or body the team deals with.", _organisation_fields(),
            {"id": 12, **_STAMPS, **ORGANISATION_EXAMPLE}),
        "OrganisationInput": _create_input(
            "A new organisation; `kind` is `other` when not given.",
            _organisation_fields(), ["name"],
            {"name": "OptoNet e.V.", "kind": "partner", "country": "DE", "city": "Jena",
             "sectors": ["optics_photonics"]}),
        "OrganisationUpdate": _update_input(
            "Changes to an organisation: the fields given, and the version last seen.",
            _organisation_fields(), {"version": 1, "city": "Jena"}),
        "OrganisationList": _list("Organisation"),
        "Affiliation": _affiliation(True),
        "AffiliationInput": _affiliation(False),
        "Contact": _record(
            "A person the team deals with.", _contact_fields(True),
            {"id": 31, **_STAMPS, "display_name": "Dr. 김민정", **CONTACT_EXAMPLE},
            extra={"display_name": {"type": "string", "readOnly": True,
                                    "description": "The name as its owner writes it (family "
                                                   "name first in Korean and Chinese)."}}),
        "ContactInput": _create_input(
            "A new contact; only `last_name` is required.", _contact_fields(False),
            ["last_name"],
            {"first_name": "Min-jung", "last_name": "Kim", "email": "mj.kim@example.kr",
             "affiliations": [{"organisation_id": 12, "role": "Head of Investment"}]}),
        "ContactUpdate": _update_input(
            "Changes to a contact: the fields given, and the version last seen.",
            _contact_fields(False), {"version": 2, "position": "CEO"}),
        "ContactList": _list("Contact"),
        "Attendee": _attendee(True),
        "AttendeeInput": _attendee(False),
        "Event": _record(
            "A delegation trip, or an event within one or on its own.", _event_fields(True),
            {"id": 8, **_STAMPS, **EVENT_EXAMPLE}),
        "EventInput": _create_input(
            "A new event; `ends_on` is `starts_on` when not given.", _event_fields(False),
            ["name", "kind", "starts_on"],
            {"name": "Delegation trip Seoul and Gyeonggi-do", "kind": "trip",
             "starts_on": "2025-05-18", "ends_on": "2025-05-24", "country": "KR",
             "cost_eur": 38500}),
        "EventUpdate": _update_input(
            "Changes to an event: the fields given, and the version last seen.",
            _event_fields(False), {"version": 3, "attendees": [{"contact_id": 31,
                                                                "status": "met"}]}),
        "EventList": _list("Event"),
        **lead_schemas(),
        **activity_schemas(),
        **results_schemas(),
    }


def lead_schemas():
    """The schemas of leads, their moves and the pipeline report."""
    return {
        "Lead": _record(
            "An investor lead, growing into an investment project.", _lead_fields(True),
            {"id": 21, **_STAMPS, **LEAD_EXAMPLE,
             "stage_entered_at": "2026-02-10T14:00:00+00:00", "won_confirmed_by_id": None,
             "won_confirmed_at": None}),
        "LeadInput": _create_input(
            "A new lead; it starts at the stage `lead`, status `ongoing`, owned by its creator, "
            "unless `stage`, `status` or `owner_id` say otherwise (a further stage needs its "
            "fields, as a move does). Money is whole euros: an integer, or text as a German "
            "user types it (`12.500.000`, `12,5 Mio.`).",
            _lead_fields(False), ["title", "organisation_id"],
            {"title": "Sensor plant Thuringia", "organisation_id": 12, "sector": "sensors",
             "country": "KR", "capex_eur": "12,5 Mio.", "capex_is_estimate": True,
             "source": "trip", "source_event_id": 8}),
        "LeadUpdate": _update_input(
            "Changes to a lead: the fields given, and the version last seen.",
            _lead_fields(False), {"version": 3, "likelihood": "high", "new_jobs": 150}),
        "LeadList": _list("Lead"),
        "StageMove": _stage_move(),
        "PipelineFigures": _pipeline_figures(False),
        "PipelineStage": _pipeline_figures(True),
        "PipelineReport": {
            "type": "object",
            "description": "The open leads the user may see (lost, abandoned and dormant "
                           "ones only when asked for), per stage in the order of `Stage`, "
                           "every stage present, and their totals.",
            "required": ["stages", "totals"],
            "properties": {
                "stages": {"type": "array", "items": ref("PipelineStage"),
                           "minItems": len(Stage), "maxItems": len(Stage)},
                "totals": ref("PipelineFigures"),
            },
            "additionalProperties": False,
            "examples": [{
                "stages": [
                    {"stage": "lead", "count": 14, "capex_eur": 85000000, "new_jobs": 410,
                     "weighted_capex_eur": 17000000},
                    {"stage": "prospect", "count": 6, "capex_eur": 40000000, "new_jobs": 230,
                     "weighted_capex_eur": 20000000},
                    {"stage": "active", "count": 3, "capex_eur": 25000000, "new_jobs": 120,
                     "weighted_capex_eur": 20000000},
                    {"stage": "decision", "count": 1, "capex_eur": 12500000, "new_jobs": 80,
                     "weighted_capex_eur": 10000000},
                    {"stage": "won", "count": 0, "capex_eur": 0, "new_jobs": 0,
                     "weighted_capex_eur": 0},
                ],
                "totals": {"count": 24, "capex_eur": 162500000, "new_jobs": 840,
                           "weighted_capex_eur": 67000000},
            }],
        },
    }


def _activity_fields(output):
    """The activity's fields as a client reads them (`output`) or sends them."""
    def subject(description):
        return _nullable({"type": "integer", "minimum": 1, "description": description})

    if output:
        occurred_at = {"type": "string", "format": "date-time",
                       "description": "When it happened."}
    else:
        occurred_at = _text(40, description=(
            "When it happened, in ISO 8601: with a time-zone offset "
            "(`2025-05-20T09:30:00+09:00`, `...Z`), or without one in the agency's time zone "
            "(Europe/Berlin); a date alone is the start of that day. Input may also be German "
            "(20.05.2025 09:30). At most a day in the future, not before 1990."),
            examples=["2025-05-20T09:30:00+09:00", "2025-05-20T02:30"])
    fields = {
        "kind": {**ref("ActivityKind"), "description": "What sort of contact it was."},
        "body": _text(LONG_TEXT_MAX, minLength=1, description=(
            "What happened, as written: line breaks are kept, markup is shown as text.")),
        "occurred_at": occurred_at,
        "organisation_id": subject("The organisation the activity is about."),
        "contact_id": subject("The person the activity is about."),
        "event_id": subject("The event or trip the activity is about."),
        "lead_id": subject("The lead the activity is about."),
        "due_on": _day("With a due date the activity is a follow-up, open until marked done.",
                       output),
        "assignee_id": _nullable({"type": "integer", "minimum": 1, "description": (
            "Who must follow up: an active team member; the author when a due date is given "
            "without one. Without `due_on` there is nobody (null).")}),
    }
    if output:
        fields = {
            **fields,
            "author_id": {"type": ["integer", "null"], "readOnly": True,
                          "description": "Who recorded it (the token's user)."},
            "done_at": {"type": ["string", "null"], "format": "date-time", "readOnly": True,
                        "description": "When the follow-up was marked done; null while open."},
            "done_by_id": {"type": ["integer", "null"], "readOnly": True,
                           "description": "Who marked it done."},
        }
    return fields


ACTIVITY_EXAMPLE = {
    "kind": "meeting", "body": "Met Dr. Kim at the business breakfast Seoul.\nSend the site "
                               "brochure for Erfurter Kreuz.",
    "occurred_at": "2025-05-20T00:30:00+00:00", "author_id": 3, "organisation_id": 12,
    "contact_id": 31, "event_id": 8, "lead_id": None, "due_on": "2025-05-27",
    "assignee_id": 3, "done_at": None, "done_by_id": None,
}


def activity_schemas():
    """The schemas of notes and follow-ups."""
    update_fields = {name: schema for name, schema in _activity_fields(False).items()
                     if not name.endswith("_id") or name == "assignee_id"}
    update_fields["done"] = {"type": "boolean", "description": (
        "true marks the follow-up done (`done_at`, `done_by_id`: now and the token's user), "
        "false opens it again. Anyone who may see the activity may send this; the other "
        "fields only its author, managers and admins (403 for others). An activity without "
        "`due_on` cannot be marked done (422).")}
    return {
        "Activity": _record(
            "A note, call, meeting, email or visit on one or more records; with a due date "
            "it is a follow-up.", _activity_fields(True),
            {"id": 54, **_STAMPS, **ACTIVITY_EXAMPLE}),
        "ActivityInput": {
            **_create_input(
                "A new activity by the token's user, about at least one organisation, contact, "
                "event or lead: each must exist and be visible to the user (else 404, naming "
                "the field). `kind` is `note` and `occurred_at` now when not given; with "
                "`due_on` it is a follow-up for `assignee_id`, or for its author.",
                _activity_fields(False), ["body"],
                {"kind": "call", "body": "Called about the site visit in June.",
                 "contact_id": 31, "lead_id": 21, "occurred_at": "2025-06-02T14:00",
                 "due_on": "2025-06-09"}),
            "anyOf": [{"required": [name]} for name in
                      ("organisation_id", "contact_id", "event_id", "lead_id")],
        },
        "ActivityUpdate": _update_input(
            "Changes to an activity: the fields given, and the version last seen. What it is "
            "about cannot be changed.", update_fields, {"version": 2, "done": True}),
        "ActivityList": _list("Activity"),
    }


_RESULT_FIGURES = {
    "count": "Leads won.",
    "capex_eur": "Their planned investment (CAPEX), in euros.",
    "new_jobs": "The new jobs they plan.",
    "safeguarded_jobs": "The jobs they safeguard.",
    "realised_count": "How many of them have realised figures recorded.",
    "planned_of_realised_capex_eur": "The planned CAPEX of those with realised figures, to "
                                     "set beside the realised one.",
    "planned_of_realised_new_jobs": "The planned new jobs of those with realised figures.",
    "planned_of_realised_safeguarded_jobs": "The planned safeguarded jobs of those with "
                                            "realised figures.",
    "realised_capex_eur": "The CAPEX realised, in euros.",
    "realised_new_jobs": "The new jobs realised.",
    "realised_safeguarded_jobs": "The jobs realised as safeguarded.",
}
_WON_FIGURES = {"count": 4, "capex_eur": 61500000, "new_jobs": 390, "safeguarded_jobs": 120,
                "realised_count": 1, "planned_of_realised_capex_eur": 12500000,
                "planned_of_realised_new_jobs": 80, "planned_of_realised_safeguarded_jobs": 0,
                "realised_capex_eur": 14000000, "realised_new_jobs": 95,
                "realised_safeguarded_jobs": 0}
_WON_BEFORE = {**dict.fromkeys(_WON_FIGURES, 0), "count": 2, "capex_eur": 18000000,
               "new_jobs": 140, "safeguarded_jobs": 60}


def _results_split(description, key):
    return {
        "type": "object",
        "description": description,
        "required": ["key", "current", "previous"],
        "properties": {"key": key, "current": ref("ResultFigures"),
                       "previous": ref("ResultFigures")},
        "additionalProperties": False,
    }


def results_schemas():
    """The schemas of the results report."""
    period = {"type": "object", "required": ["from", "to"], "additionalProperties": False,
              "properties": {"from": {"type": "string", "format": "date"},
                             "to": {"type": "string", "format": "date"}},
              "description": "Days in the agency's time zone, both included."}
    return {
        "ResultFigures": {
            "type": "object",
            "description": "Count and value of the leads won in a period.",
            "required": list(_RESULT_FIGURES),
            "properties": {name: {"type": "integer", "minimum": 0, "description": description}
                           for name, description in _RESULT_FIGURES.items()},
            "additionalProperties": False,
        },
        "ResultPair": {
            "type": "object",
            "description": "The figures of the period and of the period before.",
            "required": ["current", "previous"],
            "properties": {"current": ref("ResultFigures"), "previous": ref("ResultFigures")},
            "additionalProperties": False,
        },
        "ReportPeriod": period,
        "ResultsByInvestmentType": _results_split(
            "The won leads of one investment type (null: not given).",
            _nullable(ref("InvestmentType"))),
        "ResultsByOrigin": _results_split(
            "The won leads from domestic investors (the agency's own country), foreign ones, "
            "or investors of no known country.",
            {"type": "string", "enum": ["domestic", "foreign", "unknown"]}),
        "ResultsByCountry": _results_split(
            "The won leads from investors of one country (null: not given).",
            _nullable(ref("CountryCode"))),
        "ResultsBySector": _results_split(
            "The won leads of one sector (null: not given).", _nullable(ref("Sector"))),
        "ResultsReport": {
            "type": "object",
            "description": (
                "The leads won in the period and in the period before (the previous year, "
                "quarter or run of months; otherwise as many days just before), in total and "
                "split four ways; each split lists only the keys with won leads, the largest "
                "CAPEX first. Members get the figures of their own leads, managers and admins "
                "everyone's; a confidential lead counts only for those who may see it."),
            "required": ["period", "previous_period", "total", "by_investment_type",
                         "by_origin", "by_country", "by_sector"],
            "properties": {
                "period": ref("ReportPeriod"),
                "previous_period": ref("ReportPeriod"),
                "total": ref("ResultPair"),
                "by_investment_type": {"type": "array",
                                       "items": ref("ResultsByInvestmentType")},
                "by_origin": {"type": "array", "items": ref("ResultsByOrigin")},
                "by_country": {"type": "array", "items": ref("ResultsByCountry")},
                "by_sector": {"type": "array", "items": ref("ResultsBySector")},
            },
            "additionalProperties": False,
            "examples": [{
                "period": {"from": "2026-01-01", "to": "2026-12-31"},
                "previous_period": {"from": "2025-01-01", "to": "2025-12-31"},
                "total": {"current": _WON_FIGURES, "previous": _WON_BEFORE},
                "by_investment_type": [{"key": "greenfield", "current": _WON_FIGURES,
                                        "previous": _WON_BEFORE}],
                "by_origin": [{"key": "foreign", "current": _WON_FIGURES,
                               "previous": _WON_BEFORE}],
                "by_country": [{"key": "KR", "current": _WON_FIGURES, "previous": _WON_BEFORE}],
                "by_sector": [{"key": "automotive", "current": _WON_FIGURES,
                               "previous": _WON_BEFORE}],
            }],
        },
    }
