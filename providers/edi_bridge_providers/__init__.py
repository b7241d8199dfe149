"""Provider adapters shipped with edi-bridge, one package per operator.

Each is registered under the ``edi_bridge.providers`` entry-point group and
imported only when first used."""
