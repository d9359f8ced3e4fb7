"""A minimal service on the chassis, run as a process by test_service.py."""

from koppel_chassis import Service, ServiceSettings
from koppel_contracts import SHOP_ORDERS, OrderEvent
from pydantic_settings import SettingsConfigDict


class ExampleSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KOPPEL_EXAMPLE_")
    service_name: str = "example"


def build(settings: ServiceSettings) -> Service:
    service = Service(settings)

    @service.subscriber(SHOP_ORDERS)
    async def seen(event: OrderEvent) -> None:
        await service.db["seen"].update_one(
            {"_id": event.event_id}, {"$set": {"order_ref": event.order_ref}}, upsert=True
        )

    return service


if __name__ == "__main__":
    build(ExampleSettings()).run()
