"""A fake Diadoc for development and tests: ``edi-bridge mock serve diadoc``.

Build one with :func:`make_fake` (the ``edi_bridge.fakes`` entry point) and
serve it with :class:`edi_bridge.fakes.server.FakeServer`. Options in
``FakeOptions.extra``: ``api_client_id``, ``login``, ``password``,
``oidc_client_id``, ``oidc_client_secret``, ``our_inn``, ``our_kpp``,
``duplicate_events`` and ``duplicate_index_keys`` (probabilities of the two
known feed faults), ``seed``.
"""

from __future__ import annotations

from typing import Any

from edi_bridge.errors import ValidationError
from edi_bridge.fakes.base import probability
from edi_bridge.fakes.scenario import parse_scenario
from edi_bridge.fakes.server import FakeOptions
from edi_bridge.models import Counterparty

from ..wire import custom_document_id
from .app import DiadocApp
from .desk import DiadocDesk
from .world import Org, World

DEFAULTS = {
    "api_client_id": "edi-bridge-dev",
    "login": "dev@example.ru",
    "password": "fake-diadoc-password",
    "oidc_client_id": "edi-bridge",
    "oidc_client_secret": "fake-oidc-secret",
    "our_inn": "7707083893",
    "our_kpp": "773601001",
    "our_name": "ООО «Поставщик»",
}


class DiadocFake(DiadocApp):
    """The fake operator: Diadoc's routes plus the steering API every fake shares."""

    def __init__(self, options: FakeOptions | None = None) -> None:
        options = options or FakeOptions()
        extra = {**DEFAULTS, **dict(options.extra)}
        self.options = extra
        seed = extra.get("seed")
        our = Org(inn=extra["our_inn"], kpp=extra["our_kpp"] or None, name=extra["our_name"])
        world = World(
            our,
            default_scenario=str(parse_scenario(options.scenario)),
            duplicate_events=probability(extra, "duplicate_events"),
            duplicate_index_keys=probability(extra, "duplicate_index_keys"),
            seed=int(seed) if seed else None,
        )
        super().__init__(
            world,
            api_client_id=extra["api_client_id"],
            login=extra["login"],
            password=extra["password"],
            oidc_client_id=extra["oidc_client_id"],
            oidc_client_secret=extra["oidc_client_secret"],
        )

    def __repr__(self) -> str:
        return f"<DiadocFake box={self.our_box_id}>"

    @property
    def our_box_id(self) -> str:
        return self.world.our_org.box_id

    def register_power_of_attorney(self, document: bytes) -> str:
        """Put an EMCHD_1 МЧД in the fake's registry (for ``FullId``); its number."""
        from edi_bridge.mchd.reader import read_power_of_attorney

        number = read_power_of_attorney(document).number
        self.world.powers_of_attorney[number] = document
        return number

    def settings(self, base_url: str) -> dict[str, str]:
        return {
            "diadoc.base_url": base_url,
            "diadoc.auth": "password",
            "diadoc.api_client_id": self.options["api_client_id"],
            "diadoc.login": self.options["login"],
            "diadoc.password": self.options["password"],
            "diadoc.box_id": self.our_box_id,
        }

    def desk(self) -> DiadocDesk:
        """The counterparty page's view of the world (``/`` on the fake's port)."""
        return DiadocDesk(self.world)

    def oidc_settings(self, base_url: str) -> dict[str, str]:
        """Config keys for the OIDC flow against this fake."""
        return {
            "diadoc.base_url": base_url,
            "diadoc.auth": "oidc",
            "diadoc.token_url": base_url + "/connect/token",
            "diadoc.client_id": self.options["oidc_client_id"],
            "diadoc.client_secret": self.options["oidc_client_secret"],
            "diadoc.box_id": self.our_box_id,
        }

    # -- steering ----------------------------------------------------------

    def add_counterparty(
        self, counterparty: Counterparty, scenario: str | None = None, **plan: Any
    ) -> str:
        """Register a counterparty (its requisites sign its signatures); returns its box id.

        ``has_box=False`` plays an organization that is not on Diadoc.
        """
        has_box = plan.pop("has_box", True)
        if plan:
            raise ValidationError("counterparty", f"unknown options {sorted(plan)}")
        org = Org(
            inn=counterparty.inn,
            kpp=counterparty.kpp,
            name=counterparty.name,
            ogrn=counterparty.ogrn,
            full_name=counterparty.signatory.full_name,
            position=counterparty.signatory.position,
            scenario=str(parse_scenario(scenario)) if scenario else None,
            has_box=bool(has_box),
        )
        with self.world.lock:
            self.world.add_org(org)
        return org.box_id

    def fail_after_commit(self, times: int = 1) -> None:
        """The next ``times`` new messages are stored but answered with a 500."""
        with self.world.lock:
            self.world.fail_after_commit += times

    def message_count(self) -> int:
        with self.world.lock:
            return len(self.world.messages)

    def documents_for_key(self, idempotency_key: str) -> int:
        """How many documents the fake holds for a send's idempotency key."""
        with self.world.lock:
            key = (self.our_box_id, custom_document_id(idempotency_key))
            return len(self.world.custom_ids.get(key, []))

    def signatures_for_key(self, idempotency_key: str) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        with self.world.lock:
            key = (self.our_box_id, custom_document_id(idempotency_key))
            for message_id, entity_id in self.world.custom_ids.get(key, [])[:1]:
                for entity in self.world.messages[message_id]["Entities"]:
                    if entity.get("EntityType") != "Signature":
                        continue
                    if entity.get("ParentEntityId") != entity_id:
                        continue
                    role = (
                        "ours" if entity.get("SignerBoxId") == self.our_box_id else "counterparty"
                    )
                    found[role] = self.world.contents[(message_id, entity["EntityId"])]
        return found


def make_fake(options: FakeOptions) -> DiadocFake:
    """Entry point of the ``edi_bridge.fakes`` group."""
    return DiadocFake(options)


__all__ = ["DiadocFake", "make_fake"]
