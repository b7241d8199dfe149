"""Choosing EDI or paper for a document, with the reason kept in its history.

:class:`RoutingPolicy` is what every send consults (:meth:`Bridge.send
<edi_bridge.workflow.Bridge.send>`, and each document of a closing run). In order:

1. the caller names a provider: that provider (``"paper"`` asks for paper);
2. the first EDI route of the counterparty that an installed provider serves,
   unless that provider can look boxes up (``Capability.ROUTES``) and says the
   counterparty cannot receive there;
3. otherwise paper, with the reason: no EDI route, or every provider said it
   cannot receive. A route at an operator no installed adapter serves is refused
   (``edi[N].operator``, usually a typo) unless ``paper.unknown_operators_to_paper``
   is set; then such a counterparty goes on paper with that reason.

With paper disabled (``paper.enabled=false``) step 3 falls back to
``fallback_provider`` (the mock, by default), as before the paper route.
Fallbacks after the fact (EDI failed, or no answer for N days) are applied
by :meth:`PaperDesk.apply_fallbacks <edi_bridge.paper.desk.PaperDesk.apply_fallbacks>`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping

from . import config
from .errors import EdiBridgeError, ValidationError
from .lifecycle import Channel
from .models import Counterparty
from .provider import Capability, Provider
from .registry import Registry

PAPER = "paper"
log = logging.getLogger("edi_bridge.paper")


@dataclasses.dataclass(frozen=True)
class RouteDecision:
    channel: Channel
    provider: str  # the EDI provider, or "paper"
    reason: str
    participant_id: str | None = None  # the counterparty's route, when one was taken


def _int_setting(values: Mapping[str, str], key: str) -> int | None:
    raw = values.get(key)
    if raw is None or raw.strip() == "":
        return None
    try:
        number = int(raw)
    except ValueError:
        raise ValidationError(f"paper.{key}", "must be a whole number of days") from None
    if number < 0:
        raise ValidationError(f"paper.{key}", "must not be negative")
    return number


@dataclasses.dataclass(frozen=True)
class RoutingPolicy:
    paper_enabled: bool = True
    ask_can_receive: bool = True
    fallback_provider: str = "mock"
    fallback_on_failure: bool = False
    fallback_after_days: int | None = None
    # A route at an operator no installed adapter serves is most often a typo
    # ("diadok"): refused unless the deployment says such routes go on paper.
    unknown_operators_to_paper: bool = False

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
    ) -> RoutingPolicy:
        """Read ``paper.*`` keys (or ``EDI_BRIDGE_PAPER_*`` variables)."""
        values = config.PAPER.read(settings, environ)
        return cls(
            paper_enabled=config.flag(values.get("enabled"), True),
            ask_can_receive=config.flag(values.get("ask_can_receive"), True),
            fallback_provider=values.get("fallback_provider") or "mock",
            fallback_on_failure=config.flag(values.get("fallback_on_failure"), False),
            fallback_after_days=_int_setting(values, "fallback_after_days"),
            unknown_operators_to_paper=config.flag(values.get("unknown_operators_to_paper")),
        )

    def decide(
        self,
        counterparty: Counterparty,
        requested: str | None,
        *,
        registry: Registry,
        adapter: Callable[[str], Provider],
    ) -> RouteDecision:
        if requested == PAPER:
            return RouteDecision(Channel.PAPER, PAPER, "paper asked for by the caller")
        if requested:
            registry.get(requested)  # raises UnknownProvider early
            return RouteDecision(
                Channel.EDI, requested, f"provider {requested!r} asked for by the caller"
            )
        if not self.unknown_operators_to_paper:
            self._check_operators(counterparty, registry)
        refusals: list[str] = []
        for route in counterparty.edi:
            name = registry.for_operator(route.operator)
            if name is None:
                continue
            if self.ask_can_receive and self._says_cannot_receive(adapter(name), counterparty):
                refusals.append(name)
                continue
            return RouteDecision(
                Channel.EDI,
                name,
                f"counterparty's EDI route {route.operator} ({route.participant_id})",
                route.participant_id,
            )
        if refusals:
            reason = f"{', '.join(refusals)} reported that the counterparty cannot receive"
        elif counterparty.edi:
            operators = ", ".join(r.operator for r in counterparty.edi)
            reason = f"no installed provider serves the counterparty's operators ({operators})"
        else:
            reason = "counterparty has no EDI route"
        if self.paper_enabled:
            return RouteDecision(Channel.PAPER, PAPER, f"{reason}; sending on paper")
        return RouteDecision(
            Channel.EDI,
            self.fallback_provider,
            f"{reason}; paper is disabled, using {self.fallback_provider!r}",
        )

    @staticmethod
    def _check_operators(counterparty: Counterparty, registry: Registry) -> None:
        """Refuse, before anything is stored, routes no installed adapter serves."""
        problems = [
            (
                f"edi[{i}].operator",
                f"no installed adapter serves operator {route.operator!r}; installed "
                f"operators: {', '.join(registry.names())} (or set "
                "paper.unknown_operators_to_paper=true to send such counterparties on paper)",
            )
            for i, route in enumerate(counterparty.edi)
            if registry.for_operator(route.operator) is None
        ]
        if problems:
            raise ValidationError(problems[0][0], problems[0][1], problems=problems)

    @staticmethod
    def _says_cannot_receive(provider: Provider, counterparty: Counterparty) -> bool:
        if not provider.supports(Capability.ROUTES):
            return False
        try:
            return not provider.can_receive(counterparty)
        except EdiBridgeError as exc:
            # Unknown is not "cannot": the send itself will tell.
            log.warning("%s could not look the counterparty up: %s", provider.name, exc)
            return False


__all__ = ["PAPER", "RouteDecision", "RoutingPolicy"]
