import pytest

from crm.core.text import sort_key


@pytest.mark.parametrize(("name", "key"), [
    ("Özlem", "ozlem"),
    ("MÜLLER", "muller"),
    ("Straße", "strasse"),
    ("Wójcik", "wojcik"),
    ("김민정", "김민정"),
    ("张伟", "张伟"),
    ("", ""),
    (None, ""),
])
def test_sort_key_folds_case_umlauts_and_accents(name, key):
    assert sort_key(name) == key


def test_names_sort_the_german_way():
    names = ["Zander", "Özdemir", "Obermann", "Ärzte GmbH", "Adler", "Ostrowski"]
    assert sorted(names, key=sort_key) == [
        "Adler", "Ärzte GmbH", "Obermann", "Ostrowski", "Özdemir", "Zander"]
