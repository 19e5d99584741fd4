"""The platform's event bus (ground floor: imports no product app).

`groups` names the channel-layer groups, `events` builds every event type, `publish`
sends them once the transaction that caused them commits, `socket` is the base of every
websocket consumer, `channel_layer` the Redis pub/sub layer they all share.
"""
