"""Problems found in an application, and the reply that asks the client for them.

A problem's ``rule`` is for the operator (English, as the models word it); the reply is
for the client, in Russian, one line per problem.
"""

from __future__ import annotations

from dataclasses import dataclass

MISSING = "missing"
INVALID = "invalid"
CONFLICT = "conflict"

# What to ask the client for, per Counterparty field.
ASK: dict[str, str] = {
    "name": "полное наименование организации (или ИП)",
    "inn": "ИНН",
    "kpp": "КПП",
    "ogrn": "ОГРН (для ИП — ОГРНИП)",
    "vat_payer": "являетесь ли вы плательщиком НДС (да/нет)",
    "signatory.full_name": "ФИО подписанта договора полностью",
    "signatory.position": "точную должность подписанта",
    "username": "ваш логин в сервисе",
    "contract_postal_address": "почтовый адрес для отправки договора",
    "contact.name": "ФИО контактного (ответственного) лица",
    "contact.phone": "телефон контактного лица",
    "contact.email": "e-mail контактного лица",
    "closing_documents.email": "e-mail для закрывающих документов",
    "closing_documents.postal_address": "почтовый адрес для закрывающих документов",
    "edi": "оператора ЭДО и идентификатор участника ЭДО (или «нет»)",
}

# The client-facing wording of the models' rules (matched by their beginning).
_RULES_RU: tuple[tuple[str, str], ...] = (
    ("check digit", "не сходится контрольная цифра"),
    ("must be 10 digits", "нужно 10 цифр (организация) или 12 цифр (ИП)"),
    ("must be 13 digits", "у организации ОГРН из 13 цифр"),
    ("must be 15 digits", "у ИП ОГРНИП из 15 цифр"),
    ("must be 9 characters", "КПП — 9 символов"),
    ("a sole proprietor (12-digit INN) has no KPP", "у ИП нет КПП: проверьте ИНН"),
    ("must be a phone number", "нужен номер телефона цифрами"),
    ("value is not a valid email", "это не адрес электронной почты"),
    ("cannot tell yes or no", "ответьте «да» или «нет»"),
    ("participant_id prefix", "идентификатор не принадлежит этому оператору"),
    ("the participant id at", "не указан идентификатор участника ЭДО"),
    ("an operator and participant id", "не указаны оператор ЭДО и идентификатор участника"),
    ("cannot tell the operator", "не понятно, у какого оператора этот идентификатор"),
)


@dataclass(frozen=True)
class Problem:
    field: str  # a Counterparty field path, e.g. "contact.phone"
    kind: str  # missing | invalid | conflict
    rule: str
    values: tuple[str, ...] = ()  # the differing values of a conflict

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "kind": self.kind, "rule": self.rule}


def _ru(rule: str) -> str:
    return next((ru for start, ru in _RULES_RU if rule.startswith(start)), "")


def reply_text(problems: list[Problem]) -> str:
    """A reply asking the client for exactly what is missing or wrong."""
    if not problems:
        return ""
    lines = [
        "Здравствуйте!",
        "",
        "Спасибо за заявку. Чтобы подготовить договор, пришлите, пожалуйста:",
    ]
    for p in problems:
        what = ASK.get(p.field, p.field)
        if p.kind == MISSING:
            lines.append(f"- {what};")
        elif p.kind == CONFLICT:
            shown = ", ".join(f"«{v}»" for v in p.values)
            lines.append(f"- {what}: в заявке указаны разные значения ({shown}), какое верное;")
        else:
            why = _ru(p.rule)
            lines.append(f"- {what}: указанное значение неверно{f' ({why})' if why else ''};")
    lines += ["", "Ответьте, пожалуйста, с адреса, указанного в настройках аккаунта."]
    return "\n".join(lines)


__all__ = ["ASK", "CONFLICT", "INVALID", "MISSING", "Problem", "reply_text"]
