"""Test support shipped with the library: sample data and the provider
contract suite that every adapter passes (``edi_bridge.testing.contract``)."""

from .samples import sample_contract, sample_counterparty

__all__ = ["sample_contract", "sample_counterparty"]
