"""The channel layer: channels-redis' pub/sub layer, with publishes coalesced.

channels-redis' pub/sub layer sends every PUBLISH on its own round trip, one at a time
behind a lock shared by the whole process. With 200 chats talking at once a message
waited ~250 ms in that line (docs/benchmarks.md). Here each publish joins an outbox, and
one task sends whatever has gathered as a single pipeline: a quiet server still sends
each event at once, and a busy one sends many per round trip. Every caller still waits
until its own publish has reached Redis, and gets its error if it failed.
"""

import asyncio

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close


class CoalescingShardConnection(RedisSingleShardConnection):
    def __init__(self, host, channel_layer):
        super().__init__(host, channel_layer)
        self._outbox: list[tuple[str, bytes, asyncio.Future]] = []
        self._sender: asyncio.Task | None = None

    async def publish(self, channel, message):
        self._ensure_redis()
        sent = asyncio.get_running_loop().create_future()
        self._outbox.append((channel, message, sent))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.ensure_future(self._send_outbox())
        await sent

    async def _send_outbox(self):
        while self._outbox:
            batch, self._outbox = self._outbox, []
            try:
                self._ensure_redis()
                async with self._redis.pipeline(transaction=False) as pipe:
                    for channel, message, _ in batch:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except Exception as exc:  # every waiting publisher hears why
                for _, _, sent in batch:
                    if not sent.done():
                        sent.set_exception(exc)
            else:
                for _, _, sent in batch:
                    if not sent.done():
                        sent.set_result(None)

    async def flush(self):
        if self._sender is not None and not self._sender.done():
            await asyncio.shield(self._sender)
        await super().flush()


class CoalescingLoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shards = [CoalescingShardConnection(shard.host, self) for shard in self._shards]


class CoalescingPubSubChannelLayer(RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer (same settings) whose publishes share round trips."""

    def _get_layer(self):
        loop = asyncio.get_running_loop()
        try:
            return self._layers[loop]
        except KeyError:
            layer = self._layers[loop] = CoalescingLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
            return layer
