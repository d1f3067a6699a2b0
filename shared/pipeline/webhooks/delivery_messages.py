"""The message on the webhook deliveries queue (webhook.delivery_due): a contract between two of our
own functions (the outbox relay sends it, the delivery function reads it), so schemas/ publishes none."""

from typing import Final, Literal
from uuid import UUID

from pydantic import ConfigDict

from pipeline.models import Model

DELIVERY_DUE_TYPE: Final = "webhook.delivery_due"
DELIVERY_DUE_VERSION: Final = 1


class WebhookDeliveryDueMessage(Model):
    """Body of a message on the webhook deliveries queue: which delivery to attempt, for whom."""

    model_config = ConfigDict(frozen=True, title="WebhookDeliveryDue")

    type: Literal["webhook.delivery_due"] = DELIVERY_DUE_TYPE
    version: Literal[1] = DELIVERY_DUE_VERSION
    delivery_id: UUID
    user_id: UUID
