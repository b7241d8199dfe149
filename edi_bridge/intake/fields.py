"""The ``label: value`` form: Russian and English labels, in lines or table cells.

Each label maps to one key (``inn``, ``kpp``, ``director``, …). A row of cells is read
as label and value; a line as a label followed by ``:``, a dash, a tab or spaces and
the value; a label alone on its line takes its value from the next line (PDF cards
often break so). The labels are listed in ``docs/intake.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cards import Row

IGNORED = "_ignored"
LABELS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "полное наименование организации",
        "полное наименование",
        "полное фирменное наименование",
        "наименование организации",
        "наименование",
        "full name",
        "legal name",
        "company name",
        "organisation name",
        "organization name",
    ),
    "short_name": (
        "сокращенное наименование",
        "сокращенное фирменное наименование",
        "краткое наименование",
        "short name",
    ),
    "inn_kpp": ("инн/кпп", "инн / кпп", "inn/kpp"),
    "inn": ("инн", "inn", "tin", "taxpayer id"),
    "kpp": ("кпп", "kpp"),
    "ogrn": ("огрнип", "огрн", "ogrnip", "ogrn", "psrn"),
    "legal_address": (
        "юридический адрес",
        "адрес юридического лица",
        "адрес места нахождения",
        "место нахождения",
        "legal address",
        "registered address",
    ),
    "contract_postal_address": (
        "почтовый адрес для договора",
        "адрес для отправки договора",
        "адрес для договора",
        "contract postal address",
        "postal address for the contract",
    ),
    "closing_postal_address": (
        "почтовый адрес для закрывающих документов",
        "адрес для закрывающих документов",
        "closing documents postal address",
        "postal address for closing documents",
    ),
    "postal_address": (
        "почтовый адрес",
        "адрес для корреспонденции",
        "postal address",
        "mailing address",
    ),
    "closing_email": (
        "e-mail для закрывающих документов",
        "email для закрывающих документов",
        "эл. почта для закрывающих документов",
        "closing documents e-mail",
        "closing documents email",
        "e-mail for closing documents",
        "email for closing documents",
    ),
    "contact_phone": ("телефон контактного лица", "телефон ответственного", "contact phone"),
    "contact_email": (
        "e-mail контактного лица",
        "email контактного лица",
        "e-mail ответственного",
        "contact e-mail",
        "contact email",
    ),
    "contact_name": (
        "контактное лицо",
        "ответственное лицо",
        "ответственный",
        "contact person",
        "responsible person",
        "contact",
    ),
    "position": (
        "должность руководителя",
        "должность подписанта",
        "должность",
        "signatory position",
        "position",
    ),
    "signatory_name": ("фио руководителя", "фио подписанта", "signatory name"),
    "director": (
        "генеральный директор",
        "исполнительный директор",
        "директор",
        "президент",
        "управляющий",
        "руководитель",
        "в лице",
        "подписант",
        "general director",
        "director",
        "ceo",
        "signatory",
    ),
    "phone": ("телефон/факс", "тел./факс", "телефон", "тел.", "тел", "phone", "telephone"),
    "email": (
        "e-mail",
        "email",
        "эл. почта",
        "эл.почта",
        "электронная почта",
        "адрес электронной почты",
    ),
    "vat": ("плательщик ндс", "ндс", "система налогообложения", "vat payer", "vat"),
    "username": ("имя пользователя", "логин", "пользователь", "username", "login", "user name"),
    "edi_id": (
        "идентификатор участника эдо",
        "идентификатор эдо",
        "id эдо",
        "edi id",
        "participant id",
    ),
    "edi": ("оператор эдо", "эдо", "edi operator", "edi"),
    # Read so that their values are not taken for something else, then dropped.
    IGNORED: (
        "наименование банка",
        "банк",
        "бик",
        "р/с",
        "расчетный счет",
        "к/с",
        "корреспондентский счет",
        "корр. счет",
        "окпо",
        "оквэд",
        "октмо",
        "окато",
        "фактический адрес",
        "адрес фактический",
        "bank",
        "bic",
        "account",
    ),
}

# Labels that name a position themselves: "Генеральный директор: Иванов И. И.".
POSITION_LABELS = {
    "генеральный директор": "Генеральный директор",
    "исполнительный директор": "Исполнительный директор",
    "директор": "Директор",
    "президент": "Президент",
    "управляющий": "Управляющий",
    "general director": "Генеральный директор",
    "director": "Директор",
    "ceo": "Генеральный директор",
}

_INDEX = sorted(
    ((label, key) for key, labels in LABELS.items() for label in labels),
    key=lambda item: -len(item[0]),
)
_SEPARATORS = " \t:：-—–*"


@dataclass(frozen=True)
class Finding:
    key: str
    value: str
    label: str  # the label as normalised, e.g. "генеральный директор"
    source: str  # "message body" or "attachment card.docx"


def normalise(text: str) -> str:
    return " ".join(text.replace("ё", "е").replace("Ё", "Е").lower().split())


def match_label(text: str) -> tuple[str, str, str] | None:
    """(key, label, rest) when ``text`` starts with a known label at a word boundary."""
    norm = normalise(text)
    for label, key in _INDEX:
        if norm.startswith(label):
            after = norm[len(label) : len(label) + 1]
            if after and (after.isalnum() or after in "@_"):
                continue
            rest = _strip_from(text, label)
            return key, label, rest
    return None


def _strip_from(text: str, label: str) -> str:
    """The original text after the label (the label is matched on a normalised copy)."""
    words = len(label.split())
    parts = text.split()
    rest = " ".join(parts[words:]) if len(parts) >= words else ""
    # "ИНН:7701234567" has no space between the label and the value.
    glued = normalise(parts[words - 1]) if len(parts) >= words else ""
    last = label.split()[-1]
    if glued != last and glued.startswith(last):
        rest = (parts[words - 1][len(last) :] + " " + rest).strip()
    return rest.strip(_SEPARATORS)


def _pairs(rows: list[Row]) -> list[Row]:
    """Rows of two label/value pairs side by side (``ИНН | … | КПП | …``) split in two."""
    out: list[Row] = []
    for row in rows:
        cells = [c for c in row if c.strip()]
        if (
            len(cells) >= 4
            and len(cells) % 2 == 0
            and all(match_label(c) is not None for c in cells[::2])
        ):
            out.extend(cells[i : i + 2] for i in range(0, len(cells), 2))
        else:
            out.append(cells)
    return out


def scan(rows: list[Row], source: str) -> list[Finding]:
    """Every labelled value in ``rows``."""
    found: list[Finding] = []
    pending: tuple[str, str] | None = None
    for cells in _pairs(rows):
        if not cells:
            continue
        hit = match_label(cells[0])
        if hit is None:
            if pending is not None and len(cells) == 1:
                found.append(Finding(pending[0], cells[0].strip(), pending[1], source))
            pending = None
            continue
        key, label, rest = hit
        value = " ".join([rest, *cells[1:]]).strip(_SEPARATORS)
        pending = None
        if value and key != IGNORED:
            found.append(Finding(key, value, label, source))
        elif len(cells) == 1 and key != IGNORED:
            pending = (key, label)
    return _split_combined(found)


_INN_KPP_RE = re.compile(r"(\d{10}|\d{12})\s*[/\\,; ]\s*(\d{4}[0-9A-Z]{2}\d{3})?")


def _split_combined(found: list[Finding]) -> list[Finding]:
    out: list[Finding] = []
    for f in found:
        if f.key == "inn_kpp":
            m = _INN_KPP_RE.match(f.value + " ")
            if m:
                out.append(Finding("inn", m.group(1), f.label, f.source))
                if m.group(2):
                    out.append(Finding("kpp", m.group(2), f.label, f.source))
                continue
            out.append(Finding("inn", f.value, f.label, f.source))
        else:
            out.append(f)
    return out


__all__ = ["LABELS", "POSITION_LABELS", "Finding", "match_label", "normalise", "scan"]
