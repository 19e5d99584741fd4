"""The channel layer (realtime.channel_layer) against the real Redis: publishes that share
round trips still arrive, all of them, in the order they were sent; a publish that cannot
reach Redis fails loudly; and layers with different prefixes never hear each other."""

import asyncio

import pytest
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

from realtime.channel_layer import CoalescingPubSubChannelLayer

pytestmark = pytest.mark.asyncio


def layer(prefix: str | None = None, hosts=None) -> CoalescingPubSubChannelLayer:
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    if prefix is not None:
        config["prefix"] = prefix
    if hosts is not None:
        config["hosts"] = hosts
    return CoalescingPubSubChannelLayer(**config)


async def test_concurrent_group_sends_all_arrive_in_order():
    channel_layer = layer()
    listener = await channel_layer.new_channel()
    await channel_layer.group_add("brand_alpha.conv.1.all", listener)

    await asyncio.gather(*(channel_layer.group_send("brand_alpha.conv.1.all", {"type": "n", "n": n}) for n in range(300)))

    received = [(await asyncio.wait_for(channel_layer.receive(listener), 5))["n"] for _ in range(300)]
    assert received == list(range(300))
    await channel_layer.flush()


async def test_a_publish_that_cannot_reach_redis_raises():
    unreachable = layer(hosts=["redis://127.0.0.1:1/0"])
    with pytest.raises(RedisConnectionError):
        await asyncio.wait_for(unreachable.group_send("brand_alpha.conv.1.all", {"type": "n"}), 10)
    await unreachable.flush()


async def test_layers_with_other_prefixes_do_not_hear_each_other():
    ours, theirs = layer("run-a."), layer("run-b.")
    ours_channel, theirs_channel = await ours.new_channel(), await theirs.new_channel()
    await ours.group_add("agent.1", ours_channel)
    await theirs.group_add("agent.1", theirs_channel)

    await theirs.group_send("agent.1", {"type": "offer.created", "who": "theirs"})
    await ours.group_send("agent.1", {"type": "offer.created", "who": "ours"})

    assert (await asyncio.wait_for(ours.receive(ours_channel), 5))["who"] == "ours"
    assert (await asyncio.wait_for(theirs.receive(theirs_channel), 5))["who"] == "theirs"
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(ours.receive(ours_channel), 0.3)
    await ours.flush()
    await theirs.flush()
