"""Diadoc answers mapped into the library's error tree.

Diadoc answers errors with a status code, a short text body and a machine
code in the ``X-Diadoc-ErrorCode`` header. The status decides the class (the
shared :class:`edi_bridge.http.ErrorMap`); the code and the masked, shortened
text go into the message.
"""

from __future__ import annotations

import requests

from edi_bridge.http import ErrorMap

ERROR_CODE_HEADER = "X-Diadoc-ErrorCode"
PROVIDER = "diadoc"


class DiadocErrors(ErrorMap):
    def code(self, resp: requests.Response) -> str | None:
        return resp.headers.get(ERROR_CODE_HEADER) or None


map_error = DiadocErrors(PROVIDER)

__all__ = ["ERROR_CODE_HEADER", "PROVIDER", "DiadocErrors", "map_error"]
