"""The limits of an upload: a file over the size limit is refused before it is read, with the
friendly 413 page, and nothing is kept."""

import io

import sqlalchemy as sa

from crm.extensions import db
from crm.imports.models import ImportUpload


def test_a_50_mb_file_is_refused_with_413_and_nothing_is_kept(login):
    _, client = login("member")
    row = "Vorname;Nachname;E-Mail\r\n" + "Jürgen;Müller;j.mueller@example.de\r\n" * 10
    data = (row * (50 * 1024 * 1024 // len(row) + 1)).encode("utf-8")
    assert len(data) >= 50 * 1024 * 1024
    response = client.post("/imports/new", data={"file": (io.BytesIO(data), "gross.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert "größer als die Grenze von 25 MB" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(ImportUpload.id))) == 0
