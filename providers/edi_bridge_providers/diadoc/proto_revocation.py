"""The Diadoc messages of revocation and rejection, in the model of :mod:`.proto`.

``GenerateRevocationRequestXml`` (V2) takes a ``RevocationRequestInfo`` (the comment and the
signer), ``GenerateSignatureRejectionXml`` (V2) a ``SignatureRejectionGenerationRequestV2``;
the signed results go back in ``MessagePatchToPostV2`` (``RevocationRequests``,
``XmlSignatureRejections``, and ``Signatures`` to accept a revocation request). Names and
required fields as Diadoc's published proto definitions give them.
"""

from __future__ import annotations

from .proto import MessageModel, _message

_MODELS = (
    _message("RevocationRequestInfo", "Comment:string Signer:Signer"),
    _message(
        "Signer",
        """
        SignerCertificate:bytes SignerDetails:SignerDetails SignerCertificateThumbprint:string
        """,
    ),
    _message(
        "SignerDetails",
        """
        Surname:string! FirstName:string! Patronymic:string JobTitle:string Inn:string!
        SoleProprietorRegistrationCertificate:string
        """,
    ),
    _message(
        "SignatureRejectionGenerationRequestV2",
        "ErrorMessage:string MessageId:string! AttachmentId:string! SignerContent:bytes!",
    ),
)
MODELS: dict[str, MessageModel] = {m.name: m for m in _MODELS}

__all__ = ["MODELS"]
