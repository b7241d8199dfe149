"""A contract from a DOCX template with merge fields, and PDF through LibreOffice.

Templates use Jinja merge fields (``{{ name }}``, ``{{ signatory_name_genitive }}``) as
docxtpl reads them. Every field the template uses must be known and have a value: an
unknown or empty one is an error naming it, raised before anything is written. The
output is written to a temporary file and moved into place, so a failure leaves no
partial file. The DOCX is normalised (fixed zip timestamps), so the same template and
fields give the same bytes and the same SHA-256: a version of a contract can be told by
its hash and its fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import ValidationError
from ..models import Counterparty
from .declension import genitive_name, genitive_position, is_female

SOFFICE_ENV = "EDI_BRIDGE_SOFFICE"
_PRICE_RE = re.compile(r"^\d{1,15}(\.\d{1,2})?$")
_MONTHS = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


@dataclass(frozen=True)
class Rendered:
    """What was written: the file, its hash, and the fields merged into it."""

    path: Path
    sha256: str
    fields: dict[str, Any]
    pdf: bool
    note: str = ""  # why a PDF was asked for and a DOCX written instead
    unused: list[str] = field(default_factory=list)


def _initials(full_name: str) -> str:
    words = full_name.split()
    if len(words) < 2:
        return full_name
    return words[0] + " " + " ".join(w[0] + "." for w in words[1:3])


def _money(price: str) -> str:
    whole, _, cents = f"{Decimal(price):.2f}".partition(".")
    groups = f"{int(whole):,}".replace(",", "\u00a0")
    return f"{groups},{cents}"


def contract_fields(
    counterparty: Counterparty,
    *,
    number: str,
    date: dt.date | str,
    price: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The merge fields for a counterparty and a call; ``overrides`` win.

    A value of None means "not available": a template that uses it fails; "" means
    "not applicable" (the KPP of a sole proprietor) and merges as nothing.
    """
    if not number.strip():
        raise ValidationError("number", "must not be blank")
    if isinstance(date, str):
        try:
            date = dt.date.fromisoformat(date)
        except ValueError:
            raise ValidationError("date", "must be YYYY-MM-DD") from None
    if price is not None and not _PRICE_RE.fullmatch(price):
        raise ValidationError("price", "must be a number with up to 2 decimals, e.g. 120000.00")
    cp = counterparty
    sig = cp.signatory
    fields: dict[str, Any] = {
        "number": number.strip(),
        "date": date.strftime("%d.%m.%Y"),
        "date_iso": date.isoformat(),
        "date_long": f"«{date.day:02d}» {_MONTHS[date.month - 1]} {date.year} г.",
        "price": _money(price) if price is not None else None,
        "price_raw": price,
        "name": cp.name,
        "inn": cp.inn,
        "kpp": cp.kpp or "",  # "" = not applicable (a sole proprietor), not missing
        "ogrn": cp.ogrn,
        "ogrn_label": "ОГРН" if cp.is_organisation else "ОГРНИП",
        "is_organisation": cp.is_organisation,
        "signatory_name": sig.full_name,
        "signatory_position": sig.position,
        "signatory_initials": _initials(sig.full_name),
        "signatory_name_genitive": genitive_name(sig.full_name),
        "signatory_position_genitive": genitive_position(sig.position),
        "acting": "действующей" if is_female(sig.full_name) else "действующего",
        "vat_payer": cp.vat_payer,
        "vat_wording": (
            "является плательщиком НДС" if cp.vat_payer else "не является плательщиком НДС"
        ),
        "username": cp.username,
        "contract_postal_address": cp.contract_postal_address,
        "contact_name": cp.contact.name,
        "contact_phone": cp.contact.phone,
        "contact_email": str(cp.contact.email),
        "closing_email": str(cp.closing_documents.email),
        "closing_postal_address": cp.closing_documents.postal_address,
        "edi_operators": ", ".join(r.operator for r in cp.edi),
    }
    fields.update(overrides or {})
    return fields


def _env() -> Any:
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    # A template is a document, not code: the sandbox keeps it from reaching Python
    # internals; undefined names fail loudly at render time too.
    return SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=True)


def render_docx(template: Path | bytes, fields: Mapping[str, Any]) -> tuple[bytes, list[str]]:
    """The merged DOCX bytes and the fields the template did not use.

    Raises ValidationError naming an unknown or empty merge field.
    """
    import jinja2
    from docxtpl import DocxTemplate

    source = io.BytesIO(template) if isinstance(template, bytes) else template
    try:
        doc = DocxTemplate(source)
        env = _env()
        used = doc.get_undeclared_template_variables(env)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ValidationError("template", f"is not a readable DOCX ({exc})") from None
    except jinja2.TemplateSyntaxError as exc:
        raise ValidationError("template", f"merge field syntax: {exc.message}") from None
    unknown = sorted(used - set(fields))
    if unknown:
        raise ValidationError(
            f"template.{unknown[0]}",
            "unknown merge field",
            problems=[(f"template.{name}", "unknown merge field") for name in unknown],
        )
    empty = sorted(name for name in used if fields[name] is None)
    if empty:
        raise ValidationError(
            f"template.{empty[0]}",
            "merge field has no value",
            problems=[(f"template.{name}", "merge field has no value") for name in empty],
        )
    try:
        doc.render(dict(fields), env, autoescape=True)
    except jinja2.UndefinedError as exc:
        raise ValidationError("template", f"unknown merge field ({exc.message})") from None
    except jinja2.exceptions.SecurityError as exc:
        raise ValidationError("template", f"not allowed in a template ({exc})") from None
    buf = io.BytesIO()
    doc.save(buf)
    return normalise_docx(buf.getvalue()), sorted(set(fields) - used)


def normalise_docx(data: bytes) -> bytes:
    """The same package with fixed member timestamps and order: same content, same hash."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        names = src.namelist()
        first = [n for n in names if n == "[Content_Types].xml"]
        for name in first + sorted(n for n in names if n not in first):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, src.read(name))
    return out.getvalue()


def find_converter() -> str | None:
    """LibreOffice's ``soffice`` (or the program in EDI_BRIDGE_SOFFICE), if installed."""
    configured = os.environ.get(SOFFICE_ENV)
    if configured is not None:
        return shutil.which(configured)
    return shutil.which("soffice") or shutil.which("libreoffice")


def docx_to_pdf(data: bytes, converter: str, timeout: float = 180.0) -> bytes:
    """Convert with LibreOffice headless, in a private profile and directory."""
    with tempfile.TemporaryDirectory(prefix="edi-bridge-pdf-") as tmp:
        work = Path(tmp)
        (work / "contract.docx").write_bytes(data)
        cmd = [
            converter,
            "--headless",
            "--norestore",
            "--nolockcheck",
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(work),
            str(work / "contract.docx"),
        ]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ValidationError("pdf", f"LibreOffice did not finish in {timeout:.0f} s") from None
        pdf = work / "contract.pdf"
        if proc.returncode != 0 or not pdf.is_file():
            detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise ValidationError("pdf", f"LibreOffice failed ({proc.returncode}) {detail[0]}")
        return pdf.read_bytes()


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".partial-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_contract(
    template: Path | bytes,
    counterparty: Counterparty,
    *,
    number: str,
    date: dt.date | str,
    out: Path,
    price: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Rendered:
    """Render ``template`` for ``counterparty`` into ``out`` (``.docx`` or ``.pdf``).

    When a PDF is asked for and LibreOffice is not installed, the DOCX is written
    beside it (same name, ``.docx``) and :attr:`Rendered.note` says why.
    """
    fields = contract_fields(
        counterparty, number=number, date=date, price=price, overrides=overrides
    )
    data, unused = render_docx(template, fields)
    if out.suffix.lower() != ".pdf":
        _write(out, data)
        return Rendered(out, hashlib.sha256(data).hexdigest(), fields, False, unused=unused)
    converter = find_converter()
    if converter is None:
        fallback = out.with_suffix(".docx")
        _write(fallback, data)
        note = (
            "PDF was not possible: LibreOffice (soffice) is not installed; "
            f"wrote {fallback.name} instead"
        )
        return Rendered(fallback, hashlib.sha256(data).hexdigest(), fields, False, note, unused)
    pdf = docx_to_pdf(data, converter)
    _write(out, pdf)
    return Rendered(out, hashlib.sha256(pdf).hexdigest(), fields, True, unused=unused)


__all__ = [
    "SOFFICE_ENV",
    "Rendered",
    "contract_fields",
    "docx_to_pdf",
    "find_converter",
    "normalise_docx",
    "render_contract",
    "render_docx",
]
