"""moto fixes for SNS: the deliveries' envelope as AWS writes it."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from moto.sns import models as sns

_post_data = sns.Subscription.get_post_data


def post_data_with_topic_signature_version(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 12: moto 5.2.5 signs every delivery with SignatureVersion "2" (SHA256). AWS
    signs with the topic's `SignatureVersion` attribute, "1" (SHA1) unless the topic was set
    to "2" ("Verifying the signatures of Amazon SNS messages"): the envelope, and its
    signature over the same fields, follow the topic."""
    data: dict[str, Any] = _post_data(self, *args, **kwargs)
    # SetTopicAttributes keeps `SignatureVersion` as the topic object's `signature_version`.
    version = str(getattr(self.topic, "signature_version", None) or "1")
    if version == "1":
        signed = "".join(
            f"{key}\n{data[key]}\n"
            for key in ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
            if key in data
        )
        signature = self.private_key().sign(signed.encode(), padding.PKCS1v15(), hashes.SHA1())
        data["Signature"] = base64.b64encode(signature).decode()
        data["SignatureVersion"] = "1"
    return data


FIXES = ((sns.Subscription, "get_post_data", post_data_with_topic_signature_version),)
