"""Text the German way: keys that sort names as a German reader expects."""

import re
import unicodedata


def sort_key(text):
    """A key that sorts `Özlem` with O and `Straße` as `Strasse`, ignoring case and accents.

    (DIN 5007, variant 1: umlauts sort as their base letter.) Stored beside a name, it lets
    the database sort the German way, which neither SQLite nor PostgreSQL does by default.
    """
    if not text or text.isascii():
        return (text or "").lower()  # the same, without the Unicode work (most of an import)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", stripped)  # recomposes Hangul syllables


# What is not a letter or digit (as `str.isalnum` says): word characters less the underscore.
_NOT_ALNUM = re.compile(r"[\W_]")
_UMLAUT_SPELLINGS = (("ae", "a"), ("oe", "o"), ("ue", "u"))


def search_key(*parts):
    """Text folded for searching: `Müller`, `Mueller`, `MÜLLER` and `muller` all give `muller`.

    Case, accents (`Wójcik` → `wojcik`) and `ß`/`ss` are folded like `sort_key`; on top, the
    German spellings ä/ae, ö/oe, ü/ue become one. Scripts without case (Hangul, Chinese
    characters) are kept as they are. Queries are folded the same way before matching.
    """
    text = " ".join(sort_key(p) for p in parts if p)
    for spelling, letter in _UMLAUT_SPELLINGS:
        text = text.replace(spelling, letter)
    return " ".join(text.split())


def name_key(*parts):
    """A person's name for catching duplicates: folded like `search_key`, without punctuation,
    its words sorted, so that `Jürgen Müller`, `Müller, Juergen` and `MUELLER Jürgen` agree."""
    words = _NOT_ALNUM.sub(" ", search_key(*parts)).split()
    return " ".join(sorted(words))[:300]


# Legal forms that do not tell two organisations apart ("Jenoptik AG" is "Jenoptik").
_LEGAL_FORMS = {
    "ag", "gmbh", "mbh", "ug", "kg", "kgaa", "ohg", "gbr", "ev", "e v", "eg", "se", "co", "cokg",
    "ltd", "limited", "inc", "incorporated", "llc", "llp", "lp", "plc", "corp", "corporation",
    "company", "sa", "sas", "sarl", "srl", "spa", "bv", "nv", "ab", "as", "oy", "kk", "pte",
    "pty", "group", "holding", "holdings",
}


def organisation_match_key(name):
    """The part of an organisation's name that identifies it, for catching duplicates.

    `Jenoptik AG`, `JENOPTIK` and `Jenoptik GmbH & Co. KG` give the same key; so do
    `Müller Optik GmbH` and `Mueller Optik`.
    """
    words = _NOT_ALNUM.sub(" ", search_key(name)).split()
    if len(words) > 1 and words[0] == "the":  # "The Boeing Company" is "Boeing"
        words = words[1:]
    while words and words[-1] in _LEGAL_FORMS:
        words.pop()
    # "e.V." and "Co. KG" are split into single letters and words by the punctuation.
    while len(words) >= 2 and " ".join(words[-2:]) in {"e v", "co kg"}:
        words = words[:-2]
        while words and words[-1] in _LEGAL_FORMS:
            words.pop()
    return " ".join(words)
