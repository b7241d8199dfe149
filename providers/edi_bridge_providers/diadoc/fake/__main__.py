"""``python -m edi_bridge_providers.diadoc.fake [OPTIONS]``: an alias of
``edi-bridge mock serve diadoc [OPTIONS]`` (the same options, the same output)."""

from __future__ import annotations

import sys

from edi_bridge.cli.fake import mock


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    mock.main(["serve", "diadoc", *args], prog_name="edi-bridge mock", standalone_mode=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
