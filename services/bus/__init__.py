"""The event bus on Redis Streams: typed events (events.py, the contract every part
imports), publishing and consumer groups (streams.py), the consumer process
(runner.py) and liveness (liveness.py).

Outside the bus, events are imported from `services.bus.events` and published with the
`Publisher` below."""

from services.bus.streams import Publisher

__all__ = ["Publisher"]
