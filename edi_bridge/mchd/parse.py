"""Walking an EMCHD_1 tree into the model, naming the path of whatever is missing or wrong.

The XSD leaves much optional (an organisation's INN and OGRN, which of the four
kinds of principal is given); these walkers require what a signature check needs
and check every identifier's form and check digits on the way.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from .model import (
    NAMESPACE,
    Delegation,
    Organisation,
    Person,
    Power,
    Powers,
    Principal,
    PrincipalKind,
    Redelegation,
    Representative,
    RepresentativeKind,
    Restriction,
)
from .rules import (
    check_guid,
    check_kpp_value,
    check_ogrn_value,
    check_ogrnip_value,
    check_org_inn,
    check_person_inn,
    check_snils,
    refuse,
)

Element = Any  # lxml's _Element; kept loose so this module needs no lxml stubs at import
_DATE_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(Z|[+-]\d{2}:\d{2})?")


def q(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def child(el: Element, name: str, path: str) -> Element:
    found = el.find(q(name))
    if found is None:
        raise refuse(f"{path}/{name}", "required element is missing")
    return found


def opt_child(el: Element, name: str) -> Element | None:
    return el.find(q(name))


def children(el: Element, name: str) -> list[Element]:
    return list(el.findall(q(name)))


def attr(el: Element, name: str, path: str) -> str:
    value = el.get(name)
    if value is None or not value.strip():
        raise refuse(f"{path}/@{name}", "required attribute is missing")
    return str(value).strip()


def opt_attr(el: Element, name: str) -> str | None:
    value = el.get(name)
    return str(value).strip() or None if value is not None else None


def date_attr(el: Element, name: str, path: str) -> dt.date:
    value = attr(el, name, path)
    m = _DATE_RE.fullmatch(value)
    try:
        if m is None:
            raise ValueError
        return dt.date.fromisoformat(m.group(1))
    except ValueError:
        raise refuse(f"{path}/@{name}", f"{value[:40]!r} is not a date (YYYY-MM-DD)") from None


def choice(el: Element, path: str, options: dict[str, Any], what: str) -> tuple[str, Element]:
    """Exactly one of the named children (the XSD makes each optional)."""
    found = [(name, e) for name in options if (e := opt_child(el, name)) is not None]
    if not found:
        raise refuse(path, f"no {what} (one of {', '.join(options)} is required)")
    if len(found) > 1:
        raise refuse(path, f"more than one {what}: {', '.join(n for n, _ in found)}")
    return found[0]


def _checked(el: Element, name: str, path: str, check: Callable[[str, str], str]) -> str | None:
    value = opt_attr(el, name)
    return check(value, f"{path}/@{name}") if value is not None else None


def person(el: Element, path: str, *, name_path: str = "СведФЛ") -> Person:
    """СвФЛТип / СведИПТип / ФЛДоверТип: identifiers on ``el``, the name in СведФЛ/ФИО."""
    fio = child(child(el, name_path, path), "ФИО", f"{path}/{name_path}")
    fio_path = f"{path}/{name_path}/ФИО"
    return Person(
        surname=attr(fio, "Фамилия", fio_path),
        name=attr(fio, "Имя", fio_path),
        patronymic=opt_attr(fio, "Отчество"),
        inn=_checked(el, "ИННФЛ", path, check_person_inn),
        snils=_checked(el, "СНИЛС", path, check_snils),
        position=opt_attr(el, "Должность"),
    )


def organisation(el: Element, path: str, *, name: str = "НаимОрг") -> Organisation:
    """СвОргТип (НаимОрг) or СвИнОргТип (НаимИО)."""
    return Organisation(
        name=attr(el, name, path),
        inn=_checked(el, "ИННЮЛ", path, check_org_inn),
        kpp=_checked(el, "КПП", path, check_kpp_value),
        ogrn=_checked(el, "ОГРН", path, check_ogrn_value),
    )


def _heads(el: Element, path: str) -> tuple[Person, ...]:
    """ЛицоБезДов+: the persons acting for the organisation without a power of attorney."""
    heads: list[Person] = []
    for n, lbd in enumerate(children(el, "ЛицоБезДов"), 1):
        p = f"{path}/ЛицоБезДов[{n}]"
        if (fl := opt_child(lbd, "СвФЛ")) is not None:
            heads.append(person(fl, f"{p}/СвФЛ"))
        if (ip := opt_child(lbd, "СвИП")) is not None:
            heads.append(person(ip, f"{p}/СвИП"))
        if (uk := opt_child(lbd, "СВЮЛ")) is not None:
            for m, fl in enumerate(children(uk, "СвФЛ"), 1):
                heads.append(person(fl, f"{p}/СВЮЛ/СвФЛ[{m}]"))
    return tuple(heads)


def _russian_organisation(el: Element, path: str) -> Principal:
    """РосОргДоверТип: the organisation (СвРосОрг) and who acts for it without a МЧД."""
    org = organisation(child(el, "СвРосОрг", path), f"{path}/СвРосОрг")
    return Principal(kind=PrincipalKind.ORGANISATION, organisation=org, heads=_heads(el, path))


def _sole_proprietor(el: Element, path: str, kind: PrincipalKind) -> Principal:
    return Principal(
        kind=kind,
        person=person(el, path),
        ogrnip=_checked(el, "ОГРНИП", path, check_ogrnip_value),
    )


def principal(el: Element, path: str, *, nested_org: bool = True) -> Principal:
    """Доверит / ДоверитПерв / ПередПолн: the one kind of principal it holds.

    ``nested_org``: in Доверит the organisation is wrapped (РосОргДовер/СвРосОрг
    with its heads); in ДоверитПерв it is given directly (РосОргДовер is СвОргТип).
    """
    names = {
        "РосОргДовер": PrincipalKind.ORGANISATION,
        "ИнОргДовер": PrincipalKind.FOREIGN_ORGANISATION,
        "ИПДовер": PrincipalKind.SOLE_PROPRIETOR,
        "ФЛДовер": PrincipalKind.PERSON,
    }
    name, found = choice(el, path, names, "principal")
    p = f"{path}/{name}"
    kind = names[name]
    if kind is PrincipalKind.ORGANISATION:
        if not nested_org:
            return Principal(kind=kind, organisation=organisation(found, p))
        return _russian_organisation(found, p)
    if kind is PrincipalKind.FOREIGN_ORGANISATION:
        inner = found if not nested_org else child(found, "СвИнОрг", p)
        org = organisation(inner, p if not nested_org else f"{p}/СвИнОрг", name="НаимИО")
        heads = tuple(
            person(h, f"{p}/СвРукОП[{n}]") for n, h in enumerate(children(found, "СвРукОП"), 1)
        )
        return Principal(kind=kind, organisation=org, heads=heads)
    if kind is PrincipalKind.SOLE_PROPRIETOR:
        return _sole_proprietor(found, p, kind)
    return Principal(kind=kind, person=person(found, p))


def transferring_party(el: Element, path: str) -> Principal:
    """ПередПолн: who passed the powers on in a re-delegation."""
    names = {
        "РосОргПерПолн": PrincipalKind.ORGANISATION,
        "ИППерПолн": PrincipalKind.SOLE_PROPRIETOR,
        "ФЛПерПолн": PrincipalKind.PERSON,
        "ФилПерПолн": PrincipalKind.ORGANISATION,
        "ИнПерПолн": PrincipalKind.FOREIGN_ORGANISATION,
    }
    name, found = choice(el, path, names, "party passing the powers on")
    p = f"{path}/{name}"
    if name == "РосОргПерПолн":
        return _russian_organisation(found, p)
    if name == "ФилПерПолн":
        org = organisation(child(found, "СвФил", p), f"{p}/СвФил")
        head = person(child(found, "СвРукФил", p), f"{p}/СвРукФил")
        return Principal(kind=names[name], organisation=org, heads=(head,))
    if name == "ИнПерПолн":
        org = organisation(child(found, "СвИнОрг", p), f"{p}/СвИнОрг", name="НаимИО")
        return Principal(kind=names[name], organisation=org)
    if name == "ИППерПолн":
        return _sole_proprietor(found, p, names[name])
    return Principal(kind=names[name], person=person(found, p))


def representative(el: Element, path: str) -> Representative:
    """СвУпПредТип: @ТипПред and Пред with one kind of representative."""
    pred = child(el, "Пред", path)
    p = f"{path}/Пред"
    names = {
        "СведОрг": RepresentativeKind.ORGANISATION,
        "СведИП": RepresentativeKind.SOLE_PROPRIETOR,
        "СведФизЛ": RepresentativeKind.PERSON,
        "СведФилиал": RepresentativeKind.BRANCH,
        "СведИО": RepresentativeKind.FOREIGN_BRANCH,
    }
    name, found = choice(pred, p, names, "representative")
    kind = names[name]
    if kind in (RepresentativeKind.PERSON, RepresentativeKind.SOLE_PROPRIETOR):
        return Representative(kind=kind, person=person(found, f"{p}/{name}"))
    field = "НаимИО" if kind is RepresentativeKind.FOREIGN_BRANCH else "НаимОрг"
    return Representative(kind=kind, organisation=organisation(found, f"{p}/{name}", name=field))


def powers(el: Element, path: str) -> Powers:
    kind = attr(el, "ТипПолн", path)
    if kind not in ("0", "1"):
        raise refuse(f"{path}/@ТипПолн", f"must be 0 (text) or 1 (machine-readable), not {kind!r}")
    items: list[Power] = []
    for n, mp in enumerate(children(el, "МашПолн"), 1):
        mpath = f"{path}/МашПолн[{n}]"
        restrictions = tuple(
            Restriction(
                id=attr(r, "ИдОгр", f"{mpath}/ОгрСвПолн[{m}]"),
                code=attr(r, "КодОгр", f"{mpath}/ОгрСвПолн[{m}]"),
                name=attr(r, "НаимОгр", f"{mpath}/ОгрСвПолн[{m}]"),
                value_code=_text(opt_child(r, "КодЗначОгр")),
                value_text=_text(opt_child(r, "ТексЗначОгр")),
                value_name=opt_attr(r, "НаимЗначОгр"),
            )
            for m, r in enumerate(children(mp, "ОгрСвПолн"), 1)
        )
        items.append(
            Power(
                code=attr(mp, "КодПолн", mpath),
                name=attr(mp, "НаимПолн", mpath),
                mnemonic=opt_attr(mp, "МнПолн"),
                restrictions=restrictions,
            )
        )
    lost = opt_attr(el, "ПрУтрПолн")
    return Powers(
        machine_readable=kind == "1",
        joint=attr(el, "ПрСовмПолн", path) == "1",
        text=_text(opt_child(el, "ТекстПолн")),
        items=tuple(items),
        lost_on_delegation=None if lost is None else lost == "1",
    )


def _text(el: Element | None) -> str | None:
    if el is None or el.text is None:
        return None
    return str(el.text).strip() or None


REDELEGATION = {"1": Redelegation.NONE, "2": Redelegation.ONCE, "3": Redelegation.SUCCESSIVE}


def registration(el: Element, path: str) -> dict[str, Any]:
    """СвДовТип: number, dates, revocability, re-delegation flag, registry."""
    kind = attr(el, "ВидДовер", path)
    flag = attr(el, "ПрПередов", path)
    if kind not in ("1", "2"):
        raise refuse(f"{path}/@ВидДовер", f"must be 1 (revocable) or 2 (irrevocable), not {kind!r}")
    if flag not in REDELEGATION:
        raise refuse(f"{path}/@ПрПередов", f"must be 1, 2 or 3, not {flag!r}")
    registry = _text(opt_child(el, "СведСист"))
    if registry is None:
        raise refuse(f"{path}/СведСист", "required element is missing")
    return {
        "number": check_guid(attr(el, "НомДовер", path), f"{path}/@НомДовер"),
        "internal_number": attr(el, "ВнНомДовер", path),
        "issue_date": date_attr(el, "ДатаВыдДовер", path),
        "valid_until": date_attr(el, "СрокДейст", path),
        "revocable": kind == "1",
        "redelegation": REDELEGATION[flag],
        "registry": registry,
        "tax_offices": tuple(
            t for t in (_text(k) for k in children(el, "КодНОДейст")) if t is not None
        ),
    }


def delegation(el: Element, path: str) -> Delegation:
    """Передов: the original (СвПервДовер) and, optionally, the parent (СвПередов)."""
    first = child(el, "СвПервДовер", path)
    fpath = f"{path}/СвПервДовер"
    originals: list[Principal] = []
    for n, d in enumerate(children(first, "СвДоверПерв"), 1):
        dpath = f"{fpath}/СвДоверПерв[{n}]"
        found = child(d, "ДоверитПерв", dpath)
        originals.append(principal(found, f"{dpath}/ДоверитПерв", nested_org=False))
    if not originals:
        raise refuse(f"{fpath}/СвДоверПерв", "the original principal is missing")
    parent = opt_child(el, "СвПередов")
    ppath = f"{path}/СвПередов"
    number = opt_attr(first, "НомДоверПерв")
    parent_number = opt_attr(parent, "НомДоверN") if parent is not None else None
    return Delegation(
        original_number=check_guid(number, f"{fpath}/@НомДоверПерв") if number else None,
        original_issue_date=date_attr(first, "ДатаВыдДовер", fpath),
        original_valid_until=date_attr(first, "СрокДейст", fpath),
        parent_number=check_guid(parent_number, f"{ppath}/@НомДоверN") if parent_number else None,
        parent_issue_date=date_attr(parent, "ДатаВыдДовер", ppath) if parent is not None else None,
        parent_valid_until=date_attr(parent, "СрокДейст", ppath) if parent is not None else None,
        original_principals=tuple(originals),
        transferred_by=tuple(
            transferring_party(
                child(s, "ПередПолн", f"{path}/СвПередПолн[{n}]"),
                f"{path}/СвПередПолн[{n}]/ПередПолн",
            )
            for n, s in enumerate(children(el, "СвПередПолн"), 1)
        ),
    )


__all__ = [
    "child",
    "children",
    "delegation",
    "powers",
    "principal",
    "q",
    "registration",
    "representative",
]
