"""Importing vCards (.vcf): the cards a phone, a mail program or a card-scanning app exports
(vCard 2.1, 3.0 and 4.0) become rows in columns the import maps by itself; a file that is
not one, or a card that cannot be read, is refused by card and line, and nothing is read."""

import io
import re

import pytest
import sqlalchemy as sa

from crm.contacts.models import Contact
from crm.core.services import ValidationError
from crm.extensions import db
from crm.imports import views
from crm.imports.models import ImportUpload
from crm.imports.reading import VCARD_COLUMNS, guess_mapping, read_table
from tests.auth.test_views import field_error

# An iPhone's export: grouped properties, types as parameters, a folded note, a photo.
IPHONE_30 = (
    "BEGIN:VCARD\r\n"
    "VERSION:3.0\r\n"
    "PRODID:-//Apple Inc.//iPhone OS 17.5//EN\r\n"
    "N:Weiß;Jürgen;;Herr Prof. Dr.;\r\n"
    "FN:Prof. Dr. Jürgen Weiß\r\n"
    "ORG:Jenoptik AG;Vertrieb;\r\n"
    "TITLE:Leiter Vertrieb\\, Asien\r\n"
    "item1.EMAIL;type=INTERNET;type=HOME:jw@privat.example\r\n"
    "item2.EMAIL;type=INTERNET;type=WORK;type=pref:j.weiss@jenoptik.example\r\n"
    "TEL;type=HOME;type=VOICE:+49 3641 11\r\n"
    "TEL;type=CELL;type=VOICE;type=pref:+49 171 2345678\r\n"
    "TEL;type=WORK;type=FAX:+49 3641 99\r\n"
    "TEL;type=WORK;type=VOICE:+49 3641 65\r\n"
    "item3.ADR;type=HOME:;;Am Markt 1;Weimar;;99423;Deutschland\r\n"
    "item4.ADR;type=WORK;type=pref:;;Carl-Zeiß-Straße 1;Jena;;07743;Deutschland\r\n"
    "CATEGORIES:Messe,Optik\r\n"
    "NOTE:Getroffen auf der Photonics West\\, am Stand von Hanwha\\; sehr interess\r\n"
    " iert.\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLD\r\n"
    " BkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBDAQkJCQwLDBgN\r\n"
    "END:VCARD\r\n")

# A vCard 4.0 with Hangul, types in quotes, PREF as a parameter and tel: URIs; LF only.
HANGUL_40 = (
    "BEGIN:VCARD\n"
    "VERSION:4.0\n"
    "FN:김민정\n"
    "N:김;민정;;;\n"
    "ORG:한화 센서 주식회사\n"
    "ROLE:구매 담당\n"
    "EMAIL;TYPE=home:minjung@example.kr\n"
    "EMAIL;PREF=1:mj.kim@hanwha.example\n"
    'TEL;VALUE=uri;TYPE="voice,cell":tel:+82-10-1234-5678\n'
    'TEL;VALUE=uri;TYPE="work,voice":tel:+82-2-555-0100\n'
    "ADR;TYPE=work:;;세종대로 110;서울;;04524;대한민국\n"
    "CATEGORIES:Messe Seoul,Sensorik\n"
    "END:VCARD\n")

# Android's vCard 2.1: names quoted-printable in UTF-8, broken with `=` at the end of a
# line, types without TYPE=, a photo in base64 ended by a blank line.
ANDROID_21 = (
    b"BEGIN:VCARD\r\n"
    b"VERSION:2.1\r\n"
    b"N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=4D=C3=BC=6C=6C=65=72;=4A=C3=BC=72=67=65=6E;;"
    b"Dr.;\r\n"
    b"FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Dr.=20=4A=C3=BC=72=67=65=6E=20=4D=C3=BC=6C="
    b"6C=65=72\r\n"
    b"TEL;CELL;PREF:+49 171 1234567\r\n"
    b"TEL;WORK:+49 361 1234\r\n"
    b"EMAIL;INTERNET:j.mueller@example.de\r\n"
    b"ORG;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Gro=C3=9F=20und=20Klein=20Ma=\r\n"
    b"schinenbau=20GmbH;Einkauf\r\n"
    b"TITLE;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Eink=C3=A4ufer\r\n"
    b"ADR;WORK;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:;;Stra=C3=9Fe 1;Erfurt;;99084;Deutschla=\r\n"
    b"nd\r\n"
    b"PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgK\r\n"
    b"  DBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBD\r\n"
    b"\r\n"
    b"END:VCARD\r\n")

# Older Outlook: quoted-printable without a CHARSET, in Windows-1252.
OUTLOOK_21 = (
    b"BEGIN:VCARD\r\n"
    b"VERSION:2.1\r\n"
    b"N;ENCODING=QUOTED-PRINTABLE:M=FCller-L=FCdenscheid;J=F6rg\r\n"
    b"FN;ENCODING=QUOTED-PRINTABLE:J=F6rg M=FCller-L=FCdenscheid\r\n"
    b"ORG:Stadtwerke Erfurt\r\n"
    b"EMAIL;PREF;INTERNET:joerg@example.de\r\n"
    b"END:VCARD\r\n")


def row(table, index=0):
    """Row `index` as {field: value}, only the filled ones."""
    return {field: value for field, value in zip(VCARD_COLUMNS, table.rows[index], strict=True)
            if value}


def refusal(data, filename="kontakte.vcf"):
    """The message a file is refused with (in English: no app, no translation)."""
    with pytest.raises(ValidationError) as caught:
        read_table(filename, data)
    return str(caught.value.fields["file"][0])


def test_the_columns_of_vcards_are_mapped_without_help():
    header = list(VCARD_COLUMNS.values())
    assert guess_mapping(header) == dict(enumerate(VCARD_COLUMNS))


def test_an_iphone_card_version_3():
    """Work and preferred before home; fax is no phone; the name prefix only as far as it is
    academic; folded lines, escapes and the photo do no harm."""
    table = read_table("Jürgen Weiß.vcf", IPHONE_30.encode())
    assert table.header == list(VCARD_COLUMNS.values())
    assert row(table) == {
        "academic_title": "Prof. Dr.", "first_name": "Jürgen", "last_name": "Weiß",
        "email": "j.weiss@jenoptik.example", "phone": "+49 3641 65",
        "mobile": "+49 171 2345678", "organisation": "Jenoptik AG",
        "position": "Leiter Vertrieb, Asien", "city": "Jena", "country": "Deutschland",
        "tags": "Messe, Optik"}


def test_a_card_version_4_in_hangul():
    table = read_table("contacts.vcf", HANGUL_40.encode())
    assert row(table) == {
        "first_name": "민정", "last_name": "김", "email": "mj.kim@hanwha.example",
        "phone": "+82-2-555-0100", "mobile": "+82-10-1234-5678",
        "organisation": "한화 센서 주식회사", "position": "구매 담당", "city": "서울",
        "country": "대한민국", "tags": "Messe Seoul, Sensorik"}


def test_an_android_card_version_2_1_in_quoted_printable():
    table = read_table("00001.vcf", ANDROID_21)
    assert row(table) == {
        "academic_title": "Dr.", "first_name": "Jürgen", "last_name": "Müller",
        "email": "j.mueller@example.de", "phone": "+49 361 1234", "mobile": "+49 171 1234567",
        "organisation": "Groß und Klein Maschinenbau GmbH", "position": "Einkäufer",
        "city": "Erfurt", "country": "Deutschland"}


def test_quoted_printable_without_a_charset_is_windows_1252():
    table = read_table("outlook.vcf", OUTLOOK_21)
    assert row(table) == {"first_name": "Jörg", "last_name": "Müller-Lüdenscheid",
                          "email": "joerg@example.de", "organisation": "Stadtwerke Erfurt"}


def test_many_cards_of_all_versions_are_a_row_each_in_their_order():
    data = IPHONE_30.encode() + b"\r\n" + ANDROID_21 + HANGUL_40.encode() + OUTLOOK_21
    table = read_table("alle.vcf", data)
    assert [row(table, n)["last_name"] for n in range(4)] == [
        "Weiß", "Müller", "김", "Müller-Lüdenscheid"]


@pytest.mark.parametrize(("data", "encoding"), [
    (HANGUL_40.encode("utf-8"), "utf-8"),
    (b"\xef\xbb\xbf" + HANGUL_40.encode("utf-8"), "utf-8-sig"),
    (HANGUL_40.replace("\n", "\r\n").encode("utf-8"), "utf-8"),
    (HANGUL_40.replace("\n", "\r").encode("utf-8"), "utf-8"),
])
def test_with_or_without_bom_and_with_any_line_break(data, encoding):
    table = read_table("contacts.vcf", data)
    assert table.encoding == encoding
    assert row(table)["last_name"] == "김" and row(table)["tags"] == "Messe Seoul, Sensorik"


def test_a_card_in_windows_1252():
    data = ("BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=Windows-1252:Weiß;Jürgen\r\n"
            "ORG:Bäckerei Öztürk\r\nEND:VCARD\r\n").encode("cp1252")
    table = read_table("karte.vcf", data)
    assert table.encoding == "cp1252"
    assert row(table) == {"first_name": "Jürgen", "last_name": "Weiß",
                          "organisation": "Bäckerei Öztürk"}


def test_a_line_folded_within_a_character_is_unfolded_first():
    """Some exporters fold after 75 bytes, in the middle of a character's UTF-8 bytes."""
    name = "한화 센서 주식회사".encode()
    data = (b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Kim;Min-jung\r\nORG:" + name[:4] + b"\r\n "
            + name[4:] + b"\r\nEND:VCARD\r\n")
    assert row(read_table("k.vcf", data))["organisation"] == "한화 센서 주식회사"


@pytest.mark.parametrize(("card", "expected"), [
    ("FN:Dr. Anna Maria Schmidt", {"academic_title": "Dr.", "first_name": "Anna Maria",
                                   "last_name": "Schmidt"}),
    ("N:;;;;\r\nFN:Schmidt, Anna", {"first_name": "Anna", "last_name": "Schmidt"}),
    ("FN:王小明", {"last_name": "王小明"}),
    ("FN:Jenoptik AG\r\nORG:Jenoptik AG", {"organisation": "Jenoptik AG"}),
    ("N:Lee;Sun;;Mr.;\r\nFN:Mr. Sun Lee", {"first_name": "Sun", "last_name": "Lee"}),
    ("N:Becker;Jan;Ole;Dipl.-Ing.;", {"academic_title": "Dipl.-Ing.", "first_name": "Jan Ole",
                                      "last_name": "Becker"}),
])
def test_names_from_n_or_else_from_fn(card, expected):
    data = f"BEGIN:VCARD\r\nVERSION:3.0\r\n{card}\r\nEND:VCARD\r\n".encode()
    assert row(read_table("k.vcf", data)) == expected


@pytest.mark.parametrize(("filename", "data"), [
    ("export.txt", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Kim;Min-jung\r\nEND:VCARD\r\n"),
    ("export", b"\xef\xbb\xbf \r\nbegin:vcard\r\nversion:3.0\r\nn:Kim;Min-jung\r\nend:vcard\r\n"),
    ("Kim.VCARD", b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Kim;Min-jung\r\nEND:VCARD"),
])
def test_vcards_are_known_by_their_name_or_their_content(filename, data):
    table = read_table(filename, data)
    assert row(table) == {"first_name": "Min-jung", "last_name": "Kim"}


def test_a_damaged_photo_is_ignored_and_a_large_one_is_no_trouble():
    photo = "\r\n ".join(["QUJD" * 19] * 200_000)  # some 15 MB of base64
    data = (f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Kim;Min-jung\r\nPHOTO;ENCODING=b;TYPE=JPEG:{photo}"
            "\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Sun\r\n"
            "LOGO;ENCODING=b:!!! kein base64\r\nEND:VCARD\r\n").encode()
    table = read_table("k.vcf", data)
    assert [row(table, n)["last_name"] for n in range(2)] == ["Kim", "Lee"]


def test_a_photo_of_vcard_2_1_may_go_on_in_lines_not_indented():
    data = (b"BEGIN:VCARD\r\nVERSION:2.1\r\nN:Kim;Min-jung\r\nPHOTO;ENCODING=BASE64;TYPE=JPEG:\r\n"
            b"/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRof\r\n"
            b"Hh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgyPC4zNDL/2wBD==\r\n\r\n"
            b"TEL;CELL:+82 10 1234 5678\r\nEND:VCARD\r\n")
    assert row(read_table("k.vcf", data)) == {"first_name": "Min-jung", "last_name": "Kim",
                                              "mobile": "+82 10 1234 5678"}


@pytest.mark.parametrize(("card", "expected"), [
    ("TITLE:Head of Sales, Asia", {"position": "Head of Sales, Asia"}),
    ("TITLE:Head of Sales\\, Asia", {"position": "Head of Sales, Asia"}),
    ("ORG:Müller, Meier & Co;Vertrieb", {"organisation": "Müller, Meier & Co"}),
    ("ORG:Müller\\, Meier & Co\\; KG", {"organisation": "Müller, Meier & Co; KG"}),
    ("ADR:;;;Frankfurt, Main;;;Deutschland", {"city": "Frankfurt, Main",
                                               "country": "Deutschland"}),
])
def test_commas_escaped_or_not_stay_where_they_are(card, expected):
    """vCard 3.0 escapes commas in texts, 2.1 and many exporters do not."""
    data = f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Kim;Min-jung\r\n{card}\r\nEND:VCARD\r\n".encode()
    assert row(read_table("k.vcf", data)) == {"first_name": "Min-jung", "last_name": "Kim",
                                              **expected}


GOOD = "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Kim;Min-jung\r\nEND:VCARD\r\n"


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"\xef\xbb\xbf\r\n  \r\n", "The file is empty."),
    (b"Vorname;Nachname\r\nKim;Lee\r\n",
     "This is not a vCard file: it does not begin with BEGIN:VCARD."),
    (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n",
     "This is not a vCard file: it does not begin with BEGIN:VCARD."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
     "This is not a vCard file: it does not begin with BEGIN:VCARD."),
    ((GOOD + "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Sun\r\nGarbage\r\nEND:VCARD\r\n").encode(),
     "Card 2 cannot be read: line 8 is damaged."),
    ((GOOD + "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Lee;Sun\r\n").encode(),
     "Card 2 is not closed: END:VCARD is missing."),
    ((GOOD + "BEGIN:VCARD\r\nN:Lee;Sun\r\n" + GOOD).encode(),
     "Card 2 is not closed: END:VCARD is missing."),
    ((GOOD + "\r\nNOTE:verrutscht\r\n" + GOOD).encode(), "Line 6 is outside any card."),
    ((GOOD + "END:VCARD\r\n").encode(), "Line 5 is outside any card."),
    ((b"BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE;CHARSET=X-UNBEKANNT:=81=8D"
      b"\r\nEND:VCARD\r\n"), "Card 1 cannot be read: line 3 is damaged."),
    (b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Kim\r\nNOTE;ENCODING=b:nicht=base64\r\nEND:VCARD\r\n",
     "Card 1 cannot be read."),
    (b"BEGIN:VCARD\r\nN:M\x81ller\r\nEND:VCARD\r\n",
     "The encoding of the vCard file could not be recognised. Export it again as UTF-8."),
])
def test_what_is_no_vcard_or_cannot_be_read_is_refused_by_card_and_line(data, message):
    assert refusal(data) == message


def upload(client, data, name="kontakte.vcf"):
    return client.post("/imports/new", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_two_cards_uploaded_previewed_with_their_columns_and_imported(login):
    _, client = login("member")
    page = client.get("/imports/new").get_data(as_text=True)
    assert re.search(r'<input[^>]*accept="[^"]*\.vcf,\.vcard"', page)
    response = upload(client, IPHONE_30.encode() + HANGUL_40.encode())
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    for index, field in enumerate(VCARD_COLUMNS):
        assert re.search(rf'<select[^>]*name="col{index}">.*?<option value="{field}" selected>',
                         page, re.DOTALL), field
    assert "neu: 2" in page
    assert client.post(preview_url, data={"action": "import"}).status_code == 302
    contacts = {c.last_name: c for c in db.session.scalars(sa.select(Contact))}
    assert sorted(contacts) == ["Weiß", "김"]
    weiss, kim = contacts["Weiß"], contacts["김"]
    assert (weiss.academic_title, weiss.first_name, weiss.email, weiss.mobile) == (
        "Prof. Dr.", "Jürgen", "j.weiss@jenoptik.example", "+491712345678")
    assert [a.organisation.name for a in weiss.affiliations] == ["Jenoptik AG"]
    assert [a.organisation.name for a in kim.affiliations] == ["한화 센서 주식회사"]
    assert sorted(weiss.tags) == ["Messe", "Optik"]


def test_a_damaged_vcard_is_refused_beside_the_field_and_too_many_go_to_the_command_line(
        login, monkeypatch):
    _, client = login("member")
    response = upload(client, (GOOD + "BEGIN:VCARD\r\nN:Lee;Sun\r\n").encode())
    assert response.status_code == 422
    assert "2" in field_error(response.get_data(as_text=True), "file")
    assert "END:VCARD" in field_error(response.get_data(as_text=True), "file")
    monkeypatch.setattr(views, "MAX_BROWSER_ROWS", 2)
    response = upload(client, (GOOD * 3).encode())
    assert response.status_code == 422
    assert "flask crm import" in field_error(response.get_data(as_text=True), "file")
    assert db.session.scalar(sa.select(sa.func.count(ImportUpload.id))) == 0
