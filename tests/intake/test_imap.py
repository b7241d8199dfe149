"""Intake from an IMAP folder on a real (loopback) dovecot: once per Message-ID, marked."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from edi_bridge.cli import main
from edi_bridge.errors import EdiBridgeError
from edi_bridge.intake.imap import PROCESSED, process_mailbox

from .conftest import PASSWORD, USER, ImapServer
from .samples import ACCOUNT, SAMPLES

ACCOUNTS = {"romashka": ACCOUNT}


def sample(prefix: str) -> bytes:
    return next(s for s in SAMPLES if s.name.startswith(prefix)).build()


def append(server: ImapServer, *messages: bytes) -> None:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(server.host, server.port).login(USER, PASSWORD) as box:
        for raw in messages:
            box.append(raw, "INBOX", flag_set=[])


def flags(server: ImapServer) -> list[tuple[str, ...]]:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(server.host, server.port).login(USER, PASSWORD) as box:
        return [m.flags for m in box.fetch(headers_only=True, mark_seen=False)]


def test_mailbox_intake_takes_each_message_once_and_marks_it(imap_server: ImapServer) -> None:
    complete = sample("s01")
    append(imap_server, complete, sample("s08"), sample("s12"), complete)
    outcomes = process_mailbox(imap_server.url(), "INBOX", ACCOUNTS)
    assert [o.status for o in outcomes] == ["accepted", "incomplete", "refused", "duplicate"]
    assert outcomes[0].result is not None
    assert outcomes[0].result.counterparty is not None
    assert outcomes[0].result.counterparty.username == "romashka"
    assert "registered address" in outcomes[2].reason
    assert outcomes[3].message_id == outcomes[0].message_id
    marks = flags(imap_server)
    assert all(PROCESSED in f for f in marks)
    assert not any("\\Seen" in f for f in marks)  # left unread for people

    assert process_mailbox(imap_server.url(), "INBOX", ACCOUNTS) == []
    append(imap_server, sample("s04"))
    again = process_mailbox(imap_server.url(), "INBOX", ACCOUNTS)
    assert [o.status for o in again] == ["accepted"]


def test_cli_reads_the_mailbox_and_prints_a_json_line_per_message(
    imap_server: ImapServer, tmp_path: Path
) -> None:
    append(imap_server, sample("s02"), sample("s13"))
    accounts = tmp_path / "accounts.json"
    accounts.write_text(json.dumps(ACCOUNTS), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        [
            "intake",
            "--imap",
            f"imap://{USER}@{imap_server.host}:{imap_server.port}",
            "--folder",
            "INBOX",
            "--accounts",
            str(accounts),
        ],
        env={"EDI_BRIDGE_IMAP_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["status"] for line in lines] == ["accepted", "refused"]
    assert lines[0]["counterparty"]["edi"][0]["operator"] == "diadoc"
    assert "message.Sender" in lines[1]["reason"]


def test_wrong_imap_password_fails_without_showing_it(imap_server: ImapServer) -> None:
    with pytest.raises(EdiBridgeError) as info:
        process_mailbox(imap_server.url("wrong-secret-value"), "INBOX", ACCOUNTS)
    assert "wrong-secret-value" not in str(info.value)
    assert str(imap_server.port) in str(info.value)


def test_oversize_message_in_the_mailbox_is_refused_by_its_size_and_marked(
    imap_server: ImapServer,
) -> None:
    from edi_bridge.intake import Limits

    append(imap_server, sample("s01"))
    outcomes = process_mailbox(
        imap_server.url(), "INBOX", ACCOUNTS, limits=Limits(max_message_bytes=1000)
    )
    assert [o.status for o in outcomes] == ["refused"]
    assert "larger than 1000 bytes" in outcomes[0].reason
    assert all(PROCESSED in f for f in flags(imap_server))
