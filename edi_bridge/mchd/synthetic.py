"""Synthetic МЧД documents (EMCHD_1) for tests, fakes and demos.

Every person and organisation here is invented: :func:`synthetic_person` and
:func:`synthetic_organisation` make names that are plainly made up and INN,
SNILS, KPP and OGRN with correct check digits in a range no registry check is
meant to reach. The documents built are valid against the official XSD (the
tests check that) and say so in ``ИнСвед``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lxml import etree

from ..requisites import complete_inn, complete_ogrn
from .model import FORMAT_VERSION, NAMESPACE, Organisation, Person, Redelegation
from .rules import complete_snils, format_snils

SIGN_DOCUMENTS = ("SYNTHETIC_SIGN_DOCS", "Подписание документов в электронном документообороте")
"""The default machine-readable power (a made-up code of the required length)."""
REGISTRY = "https://mchd-registry.invalid/"
NOTE = "Синтетический документ для тестов: лица и реквизиты вымышлены"

_SURNAMES = ("Тестов", "Примеров", "Образцов", "Макетов", "Шаблонов", "Пробов")
_NAMES = (  # (name, patronymic): men, then women
    (("Иван", "Иванович"), ("Пётр", "Петрович"), ("Олег", "Павлович")),
    (("Анна", "Сергеевна"), ("Мария", "Олеговна"), ("Вера", "Андреевна")),
)
_REDELEGATION = {Redelegation.NONE: "1", Redelegation.ONCE: "2", Redelegation.SUCCESSIVE: "3"}


def synthetic_person(seed: int, *, position: str | None = "Менеджер") -> Person:
    """An invented person with a well-formed personal INN and SNILS (digits only)."""
    n = seed % 1_000_000
    female = seed % 2
    name, patronymic = _NAMES[female][(seed // 2) % 3]
    return Person(
        surname=_SURNAMES[(seed // 6) % len(_SURNAMES)] + ("а" if female else ""),
        name=name,
        patronymic=patronymic,
        inn=complete_inn(f"9900{n:06d}"),
        snils=complete_snils(f"990{n:06d}"),
        position=position,
    )


def synthetic_organisation(seed: int, name: str | None = None) -> Organisation:
    """An invented organisation with well-formed INN, KPP and OGRN."""
    n = seed % 100_000
    return Organisation(
        name=name or f'ООО "Пример {seed}"',
        inn=complete_inn(f"99{n:07d}"),
        kpp="990101001",
        ogrn=complete_ogrn(f"10299000{n:04d}"[:12]),
    )


@dataclass(frozen=True)
class Original:
    """The power of attorney a re-delegation rests on."""

    principal: Organisation
    number: str
    issue_date: dt.date
    valid_until: dt.date


def _el(parent: etree._Element, name: str, **attrs: str | None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{NAMESPACE}}}{name}")
    for key, value in attrs.items():
        if value is not None:
            node.set(key, value)
    return node


def _person(parent: etree._Element, name: str, who: Person, **extra: str | None) -> None:
    node = _el(
        parent,
        name,
        ИННФЛ=who.inn,
        СНИЛС=format_snils(who.snils) if who.snils else None,
        Должность=who.position,
        **extra,
    )
    _fio(node, who)


def _fio(node: etree._Element, who: Person) -> None:
    _el(_el(node, "СведФЛ"), "ФИО", Фамилия=who.surname, Имя=who.name, Отчество=who.patronymic)


def _org(parent: etree._Element, name: str, org: Organisation) -> etree._Element:
    return _el(parent, name, НаимОрг=org.name, ИННЮЛ=org.inn, КПП=org.kpp, ОГРН=org.ogrn)


def _registration(
    parent: etree._Element,
    name: str,
    record: tuple[str, str, dt.date, dt.date],
    revocable: bool = True,
    redelegation: Redelegation = Redelegation.NONE,
) -> None:
    """СвДовТип; ``record``: number, internal number, issue date, valid until."""
    number, internal_number, issue_date, valid_until = record
    node = _el(
        parent,
        name,
        ВидДовер="1" if revocable else "2",
        ПрПередов=_REDELEGATION[redelegation],
        ВнНомДовер=internal_number,
        НомДовер=number,
        ДатаВыдДовер=issue_date.isoformat(),
        СрокДейст=valid_until.isoformat(),
    )
    _el(node, "СведСист").text = REGISTRY + number


def _representatives(
    parent: etree._Element, name: str, reps: Sequence[Person | Organisation]
) -> None:
    for rep in reps:
        if isinstance(rep, Person):
            _person(_el(_el(parent, name, ТипПред="3"), "Пред"), "СведФизЛ", rep)
        else:
            _org(_el(_el(parent, name, ТипПред="1"), "Пред"), "СведОрг", rep)


def _powers(parent: etree._Element, powers: Sequence[tuple[str, str]] | str) -> None:
    if isinstance(powers, str):
        _el(parent, "СвПолн", ТипПолн="0", ПрСовмПолн="2")
        _el(parent[-1], "ТекстПолн").text = powers
        return
    node = _el(parent, "СвПолн", ТипПолн="1", ПрСовмПолн="2")
    for code, title in powers:
        _el(node, "МашПолн", КодПолн=code, НаимПолн=title)


def _root(number: str, issue_date: dt.date) -> tuple[etree._Element, etree._Element]:
    nsmap: Any = {None: NAMESPACE}  # the default namespace; the stubs want str keys
    root = etree.Element(f"{{{NAMESPACE}}}Доверенность", nsmap=nsmap)
    root.set("ВерсФорм", FORMAT_VERSION)
    root.set("ПрЭлФорм", "00000000")
    root.set("ИдФайл", f"ON_EMCHD_{issue_date:%Y%m%d}_{number}")
    _el(root, "ИнСвед").text = NOTE
    return root, _el(root, "Документ")


def _bytes(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def build_power_of_attorney(
    *,
    principal: Organisation,
    head: Person,
    representatives: Sequence[Person | Organisation],
    issue_date: dt.date,
    valid_until: dt.date,
    powers: Sequence[tuple[str, str]] | str = (SIGN_DOCUMENTS,),
    number: str | None = None,
    internal_number: str = "1",
    revocable: bool = True,
    redelegation: Redelegation = Redelegation.NONE,
) -> bytes:
    """A direct МЧД (``Довер``) from ``principal`` (signed for by ``head``).

    ``powers``: machine-readable ``(code, name)`` pairs, or a text for a text
    power of attorney. Dates are not checked here, so tests can build wrong ones.
    """
    number = number or str(uuid.uuid4())
    root, doc = _root(number, issue_date)
    dov = _el(doc, "Довер")
    record = (number, internal_number, issue_date, valid_until)
    _registration(dov, "СвДов", record, revocable, redelegation)
    org = _el(
        _el(_el(dov, "СвДоверит", ТипДоверит="1"), "Доверит"),
        "РосОргДовер",
        ЕИОУК="0",
        ЕИОФЛ="1",
        ЕИОИП="0",
    )
    _org(org, "СвРосОрг", principal)
    _person(_el(org, "ЛицоБезДов", ПолнЮЛ="1"), "СвФЛ", head)
    _representatives(dov, "СвУпПред", representatives)
    _powers(dov, powers)
    return _bytes(root)


def build_redelegation(
    *,
    original: Original,
    transferred_by: Person,
    representatives: Sequence[Person | Organisation],
    issue_date: dt.date,
    valid_until: dt.date,
    powers: Sequence[tuple[str, str]] | str = (SIGN_DOCUMENTS,),
    number: str | None = None,
    internal_number: str = "1",
) -> bytes:
    """A re-delegation (``Передов``): ``transferred_by`` passes the original's powers on."""
    number = number or str(uuid.uuid4())
    root, doc = _root(number, issue_date)
    redel = _el(doc, "Передов", ПрНалПередов="0")
    first = _el(
        redel,
        "СвПервДовер",
        ПрДовер="1",
        ФормДовер="1",
        ДатаВыдДовер=original.issue_date.isoformat(),
        СрокДейст=original.valid_until.isoformat(),
        НомДоверПерв=original.number,
    )
    _org(
        _el(_el(first, "СвДоверПерв", ТипДоверит="1"), "ДоверитПерв"),
        "РосОргДовер",
        original.principal,
    )
    _registration(redel, "СвПереДовер", (number, internal_number, issue_date, valid_until))
    giver = transferred_by
    _person(
        _el(_el(redel, "СвПередПолн", ТипПерПолн="3"), "ПередПолн"),
        "ФЛПерПолн",
        Person(giver.surname, giver.name, giver.patronymic, giver.inn, giver.snils),
    )
    _representatives(redel, "СвПолучПолн", representatives)
    _powers(redel, powers)
    return _bytes(root)


__all__ = [
    "NOTE",
    "REGISTRY",
    "SIGN_DOCUMENTS",
    "Original",
    "build_power_of_attorney",
    "build_redelegation",
    "synthetic_organisation",
    "synthetic_person",
]
