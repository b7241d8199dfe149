"""``python -m edi_bridge_providers.diadoc.fake [--port P] [--scenario S] [--record FILE]``

Serves the fake Diadoc on 127.0.0.1 until interrupted, after printing the
``export`` lines that point the adapter at it (the same as
``edi-bridge mock serve diadoc``).
"""

from __future__ import annotations

import argparse
import shlex
import sys

from edi_bridge.fakes.server import FakeOptions, FakeServer, Faults, load_fake


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m edi_bridge_providers.diadoc.fake")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--scenario", default="sign")
    parser.add_argument("--record", default=None)
    parser.add_argument("--faults", default=None, help="e.g. 500=0.2,timeout=0.1,delay=1")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    extra = dict(item.partition("=")[::2] for item in args.set)
    fake = load_fake("diadoc", FakeOptions(scenario=args.scenario, extra=extra))
    server = FakeServer(fake, port=args.port, faults=Faults.parse(args.faults), record=args.record)
    for name, value in server.exports().items():
        print(f"export {name}={shlex.quote(value)}")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
