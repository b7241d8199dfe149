"""From an application e-mail to a validated Counterparty, or the list of what is missing.

:func:`intake_message` reads the message (bounded), refuses a sender other than the
account's registered address, gathers ``label: value`` findings from the body and
every company card attached, maps them onto :class:`~edi_bridge.models.Counterparty`
and validates them with the model's own rules. The result lists every problem per
field, and :attr:`IntakeResult.reply_text` asks the client for exactly those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ValidationError
from ..models import Counterparty, parse_counterparty
from ..requisites import OPERATOR_PREFIXES, complete_inn, complete_ogrn
from .cards import read_card, text_rows
from .fields import POSITION_LABELS, Finding, normalise, scan
from .message import Limits, Mail, check_sender, read_mail
from .reply import ASK, CONFLICT, INVALID, MISSING, Problem, reply_text

_REQUIRED = [k for k in ASK if k not in ("kpp", "edi")]

_VAT_NO = (
    "без ндс",
    "не явля",
    "не плательщик",
    "не облага",
    "освобожд",
    "усн",
    "упрощ",
    "патент",
    "нет",
    "no",
    "not",
    "exempt",
)
_VAT_YES = ("да", "явля", "плательщик", "с ндс", "осн", "осно", "общая", "20%", "yes", "payer")
_EDI_NAMES = {
    "диадок": "diadoc",
    "diadoc": "diadoc",
    "контур": "diadoc",
    "сбис": "sbis",
    "sbis": "sbis",
    "тензор": "sbis",
    "saby": "sbis",
}
_EDI_ID_RE = re.compile(r"\b2B[A-Z0-9][-A-Za-z0-9]{3,43}")
_PREFIX_OPERATOR = {prefix: op for op, prefix in OPERATOR_PREFIXES.items()}
_SAME_AS_LEGAL = ("совпадает", "same as legal", "тот же")
_IP_RE = re.compile(r"^(индивидуальный предприниматель|ип)\s+", re.IGNORECASE)


@dataclass
class IntakeResult:
    """The outcome for one application: a counterparty, or the problems per field."""

    message_id: str
    sender: str
    counterparty: Counterparty | None
    problems: list[Problem]
    data: dict[str, Any]  # what was found, in the Counterparty's shape
    extras: dict[str, str] = field(default_factory=dict)  # found, not in Counterparty
    sources: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.counterparty is not None

    @property
    def reply_text(self) -> str:
        return reply_text(self.problems)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "message_id": self.message_id,
            "sender": self.sender,
            "complete": self.complete,
            "sources": self.sources,
            "extras": self.extras,
        }
        if self.counterparty is not None:
            out["counterparty"] = self.counterparty.model_dump(mode="json")
        else:
            out["problems"] = [p.as_dict() for p in self.problems]
            out["reply"] = self.reply_text
        return out


def _parse_vat(value: str) -> bool | None:
    v = normalise(value)
    words = set(re.findall(r"[\w%]+", v))
    if any(m in v for m in _VAT_NO if " " in m) or words & {m for m in _VAT_NO if " " not in m}:
        return False
    if any(v.startswith(m) for m in _VAT_NO if len(m) > 3):
        return False
    if words & set(_VAT_YES) or any(m in v for m in _VAT_YES if len(m) > 3):
        return True
    return None


def _parse_edi(value: str, ids: list[str], problems: list[Problem]) -> list[dict[str, str]]:
    v = normalise(value)
    found = set(_EDI_ID_RE.findall(value + " " + " ".join(ids)))
    named = {op for name, op in _EDI_NAMES.items() if name in v}
    routes: dict[str, str] = {}
    for pid in sorted(found):
        operator = _PREFIX_OPERATOR.get(pid[:3].upper())
        if operator is None and len(named) == 1:
            operator = next(iter(named))
        if operator is None:
            problems.append(Problem("edi", INVALID, f"cannot tell the operator of {pid}"))
            continue
        routes.setdefault(operator, pid)
    for op in sorted(named - set(routes)):
        problems.append(Problem("edi", MISSING, f"the participant id at {op} is not given"))
    words = set(re.findall(r"\w+", v))
    if not found and not named and words & {"да", "yes", "есть", "используем", "можем"}:
        problems.append(Problem("edi", MISSING, "an operator and participant id are not given"))
    return [{"operator": op, "participant_id": pid} for op, pid in routes.items()]


class _Collected:
    """Values per key in the order found; a second, different value is a conflict."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.conflicts: list[tuple[str, str, tuple[str, str]]] = []

    def get(self, key: str, *, normal: Any = None) -> str | None:
        hits = [f for f in self.findings if f.key == key]
        if not hits:
            return None
        canon = normal or (lambda s: normalise(s).replace(" ", ""))
        first = hits[0]
        for other in hits[1:]:
            if canon(other.value) != canon(first.value):
                self.conflicts.append(
                    (
                        key,
                        f"{first.source}: {first.value!r}; {other.source}: {other.value!r}",
                        (first.value, other.value),
                    )
                )
                break
        return first.value

    def label_of(self, key: str) -> str | None:
        return next((f.label for f in self.findings if f.key == key), None)


def _signatory(c: _Collected, name: str | None) -> dict[str, str]:
    from ..contracts.declension import nominative_signatory

    out: dict[str, str] = {}
    # "Директор: Иванов И. И." and "Руководитель: Директор Иванов И. И." agree.
    director = c.get("director", normal=lambda s: normalise(" ".join(s.split()[-3:])))
    label = c.label_of("director")
    if director:
        if label == "в лице":
            position, full_name = nominative_signatory(director)
            out.update(position=position, full_name=full_name)
        elif label in POSITION_LABELS:
            out.update(position=POSITION_LABELS[label], full_name=director)
        else:
            words = director.split()
            # "Руководитель: Генеральный директор Иванов Иван Иванович"
            if len(words) > 3 and words[-3][:1].isupper():
                out.update(position=" ".join(words[:-3]), full_name=" ".join(words[-3:]))
            else:
                out["full_name"] = director
    elif name and _IP_RE.match(name):
        out.update(position="Индивидуальный предприниматель", full_name=_IP_RE.sub("", name))
    explicit_name = c.get("signatory_name")
    if explicit_name:
        out["full_name"] = explicit_name
    stated_position = c.get("position")
    if stated_position:
        out["position"] = stated_position
    return {k: " ".join(v.split()) for k, v in out.items() if v.strip()}


def gather(
    findings: list[Finding], username: str | None
) -> tuple[dict[str, Any], dict[str, str], list[Problem]]:
    """Findings → (data in the Counterparty's shape, extras, problems found while mapping)."""
    c = _Collected(findings)
    problems: list[Problem] = []
    data: dict[str, Any] = {}
    name = c.get("full_name") or c.get("short_name")
    if name:
        data["name"] = name
    for key in ("inn", "kpp", "ogrn"):
        value = c.get(key)
        if value:
            data[key] = "".join(value.split())
    vat = c.get("vat")
    if vat is not None:
        parsed = _parse_vat(vat)
        if parsed is None:
            problems.append(Problem("vat_payer", INVALID, f"cannot tell yes or no from {vat!r}"))
        else:
            data["vat_payer"] = parsed
    signatory = _signatory(c, name)
    if signatory:
        data["signatory"] = signatory
    stated = c.get("username")
    if username and stated and stated.strip() != username:
        problems.append(
            Problem(
                "username",
                CONFLICT,
                f"the application says {stated!r}, the account is {username!r}",
                (stated.strip(), username),
            )
        )
    if username or stated:
        data["username"] = username or (stated or "").strip()
    extras: dict[str, str] = {}
    legal = c.get("legal_address")
    if legal:
        extras["legal_address"] = legal
    postal = c.get("postal_address")
    if postal and legal and any(m in normalise(postal) for m in _SAME_AS_LEGAL):
        postal = legal
    contract_postal = c.get("contract_postal_address") or postal
    if contract_postal:
        data["contract_postal_address"] = contract_postal
    contact = {
        "name": c.get("contact_name"),
        "phone": c.get("contact_phone") or c.get("phone"),
        "email": c.get("contact_email") or c.get("email"),
    }
    if any(contact.values()):
        data["contact"] = {k: v for k, v in contact.items() if v}
    closing = {
        "email": c.get("closing_email"),
        "postal_address": c.get("closing_postal_address") or postal,
    }
    if any(closing.values()):
        data["closing_documents"] = {k: v for k, v in closing.items() if v}
    edi = c.get("edi")
    edi_ids = [f.value for f in findings if f.key == "edi_id"]
    if edi is not None or edi_ids:
        data["edi"] = _parse_edi(edi or "", edi_ids, problems)
    for key, detail, values in c.conflicts:
        target = {
            "full_name": "name",
            "short_name": "name",
            "vat": "vat_payer",
            "director": "signatory.full_name",
            "position": "signatory.position",
            "email": "contact.email",
            "phone": "contact.phone",
            "postal_address": "contract_postal_address",
        }.get(key, key)
        problems.append(Problem(target, CONFLICT, detail, values))
    return data, extras, problems


def _lookup(data: dict[str, Any], path: str) -> Any:
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _placeholder(path: str, data: dict[str, Any]) -> Any:
    """A valid stand-in for a missing field, so the rest can still be validated."""
    inn = str(data.get("inn") or "")
    person = len(inn) == 12
    return _STANDINS[path](person)


_STANDINS: dict[str, Any] = {
    "name": lambda person: "x",
    "inn": lambda person: complete_inn("7700000000" if person else "770000000"),
    "vat_payer": lambda person: False,
    "ogrn": lambda person: complete_ogrn("30477000000000" if person else "102770000000"),
    "username": lambda person: "x",
    "contract_postal_address": lambda person: "x",
    "signatory.full_name": lambda person: "x",
    "signatory.position": lambda person: "x",
    "contact.name": lambda person: "x",
    "contact.phone": lambda person: "+70000000000",
    "contact.email": lambda person: "x@example.com",
    "closing_documents.email": lambda person: "x@example.com",
    "closing_documents.postal_address": lambda person: "x",
}


def validate(data: dict[str, Any], problems: list[Problem]) -> Counterparty | None:
    """Check ``data`` with the Counterparty's rules; adds every problem; None unless clean."""
    missing = [p for p in _REQUIRED if _lookup(data, p) in (None, "")]
    probe: dict[str, Any] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for path in missing:
        problems.append(Problem(path, MISSING, "required"))
        head, _, tail = path.partition(".")
        if tail:
            probe.setdefault(head, {})[tail] = _placeholder(path, data)
        else:
            probe[head] = _placeholder(path, data)
    taken = {p.field for p in problems}
    # Field rules run before the model's cross-field rules (KPP and OGRN by the kind of
    # INN): a field found bad is replaced by a stand-in and the rest checked again.
    for _ in range(3):
        try:
            counterparty = parse_counterparty(probe)
        except ValidationError as exc:
            fresh = [(path, rule) for path, rule in exc.problems if path not in taken]
            for path, rule in fresh:
                kind = MISSING if rule == "required" or "required for" in rule else INVALID
                problems.append(Problem(path, kind, rule))
                taken.add(path)
            if not fresh or not all(path in _STANDINS for path, _ in fresh):
                return None
            for path, _ in fresh:
                head, _, tail = path.partition(".")
                if tail:
                    probe.setdefault(head, {})[tail] = _placeholder(path, probe)
                else:
                    probe[head] = _placeholder(path, probe)
            continue
        return None if problems else counterparty
    return None


def intake_mail(
    mail: Mail, *, username: str | None = None, limits: Limits | None = None
) -> IntakeResult:
    """Intake of an already read message (the sender is not checked here)."""
    limits = limits or Limits()
    findings = scan(text_rows(mail.text), "message body")
    sources = ["message body"] if findings else []
    for att in mail.attachments:
        rows = read_card(att, limits)
        if rows is None:
            continue
        found = scan(rows, f"attachment {att.file_name}")
        if found:
            sources.append(f"attachment {att.file_name}")
            findings.extend(found)
    data, extras, problems = gather(findings, username)
    counterparty = validate(data, problems)
    return IntakeResult(
        message_id=mail.message_id,
        sender=mail.from_address,
        counterparty=counterparty,
        problems=problems,
        data=data,
        extras=extras,
        sources=sources,
    )


def intake_message(
    data: bytes,
    *,
    account_email: str,
    username: str | None = None,
    limits: Limits | None = None,
) -> IntakeResult:
    """Read an application e-mail; raises ValidationError (sender) or UnsafeInput."""
    mail = read_mail(data, limits)
    check_sender(mail, account_email)
    return intake_mail(mail, username=username, limits=limits)


__all__ = [
    "ASK",
    "CONFLICT",
    "INVALID",
    "MISSING",
    "IntakeResult",
    "Problem",
    "gather",
    "intake_mail",
    "intake_message",
    "reply_text",
    "validate",
]  # ASK, the kinds, Problem and reply_text live in .reply and are re-exported here
