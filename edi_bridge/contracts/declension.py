"""Cases of a signatory's name and position for Russian contract wording.

"в лице Генерального директора Иванова Ивана Ивановича": names are declined by
pytrovich (a port of petrovich, rules made for Russian anthroponyms), positions by
pymorphy3 (a morphological dictionary): the words up to and including the head noun
agree in case, the rest ("по развитию", "Общества") stays as written. Both libraries
are imported on first use.
"""

from __future__ import annotations

import functools
import re
from typing import Any

_INITIALS_RE = re.compile(r"^[А-ЯЁ]\.\s*([А-ЯЁ]\.)?$")


@functools.lru_cache(maxsize=1)
def _morph() -> Any:
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@functools.lru_cache(maxsize=1)
def _petrovich() -> tuple[Any, Any]:
    from pytrovich.detector import PetrovichGenderDetector
    from pytrovich.maker import PetrovichDeclinationMaker

    return PetrovichDeclinationMaker(), PetrovichGenderDetector()


def _case_like(word: str, model: str) -> str:
    """``word`` capitalised as ``model`` is (all caps, Title or lower)."""
    if model.isupper() and len(model) > 1:
        return word.upper()
    if model[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def genitive_name(full_name: str) -> str:
    """ "Иванов Иван Иванович" → "Иванова Ивана Ивановича"; initials are kept."""
    from pytrovich.enums import Case, Gender, NamePart

    maker, detector = _petrovich()
    words = full_name.split()
    if not words:
        return full_name
    surname, rest = words[0], words[1:]
    initials = " ".join(rest)
    first = rest[0] if rest and not _INITIALS_RE.match(initials) else None
    middle = rest[1] if first and len(rest) > 1 else None
    try:
        gender = detector.detect(firstname=first, middlename=middle) if first else Gender.MALE
    except (KeyError, ValueError, StopIteration):
        gender = Gender.MALE
    if first is None and surname.lower().endswith(("ова", "ева", "ина", "ая", "ына")):
        gender = Gender.FEMALE
    out = [maker.make(NamePart.LASTNAME, gender, Case.GENITIVE, surname)]
    if first is None:
        out.extend(rest)
    else:
        out.append(maker.make(NamePart.FIRSTNAME, gender, Case.GENITIVE, first))
        if middle:
            out.append(maker.make(NamePart.MIDDLENAME, gender, Case.GENITIVE, middle))
        out.extend(rest[2:])
    return " ".join(out)


def is_female(full_name: str) -> bool:
    """The grammatical gender of a "Фамилия Имя Отчество" (by patronymic and name)."""
    from pytrovich.enums import Gender

    words = full_name.split()
    first = words[1] if len(words) > 1 and "." not in words[1] else None
    middle = words[2] if first and len(words) > 2 else None
    if first is not None:
        try:
            return bool(_petrovich()[1].detect(firstname=first, middlename=middle) == Gender.FEMALE)
        except (KeyError, ValueError, StopIteration):
            pass
    return bool(words) and words[0].lower().endswith(("ова", "ева", "ина", "ая", "ына"))


def _inflect_head(phrase: str, case: str, from_case: str | None) -> str:
    """Inflect the words of ``phrase`` up to its first noun into ``case``."""
    morph = _morph()
    words = phrase.split()
    out: list[str] = []
    for index, word in enumerate(words):
        parses = morph.parse(word)
        if from_case is not None:
            parses = [p for p in parses if from_case in p.tag] or parses
        parse = parses[0]
        pos = parse.tag.POS
        if pos not in ("NOUN", "ADJF", "PRTF"):
            out.extend(words[index:])
            break
        inflected = parse.inflect({case})
        out.append(_case_like(inflected.word, word) if inflected else word)
        if pos == "NOUN":
            out.extend(words[index + 1 :])
            break
    return " ".join(out)


def genitive_position(position: str) -> str:
    """ "Генеральный директор" → "Генерального директора"."""
    return _inflect_head(position, "gent", "nomn")


def nominative_signatory(text: str) -> tuple[str, str]:
    """ "Генерального директора Петровой Анны Сергеевны" → (position, full name).

    For the "в лице …" wording of an application; the name is the last three words
    (or a surname with initials), the position what precedes it.
    """
    text = re.split(r",|\s+действующ", text, maxsplit=1)[0].strip()
    words = text.split()
    if len(words) >= 2 and _INITIALS_RE.match(" ".join(words[-2:]).replace(" ", "")):
        cut = len(words) - 3
    elif len(words) >= 2 and _INITIALS_RE.match(words[-1]):
        cut = len(words) - 2
    else:
        cut = max(len(words) - 3, 0)
    position_words, name_words = words[:cut], words[cut:]
    morph = _morph()
    name: list[str] = []
    for word in name_words:
        if _INITIALS_RE.match(word) or "." in word:
            name.append(word)
            continue
        parses = [
            p
            for p in morph.parse(word)
            if "gent" in p.tag and ({"Surn", "Name", "Patr"} & set(p.tag.grammemes))
        ]
        inflected = parses[0].inflect({"nomn"}) if parses else None
        name.append(_case_like(inflected.word, word) if inflected else word)
    position = _inflect_head(" ".join(position_words), "nomn", "gent") if position_words else ""
    return position, " ".join(name)


__all__ = ["genitive_name", "genitive_position", "is_female", "nominative_signatory"]
