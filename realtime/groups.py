"""Channel-layer group names. Every brand-scoped group carries the brand schema, so two
brands' conversation 7 never share a group."""


def conversation_group(*, schema: str, conversation_id: int, audience: str) -> str:
    """audience: "all" (the customer's and the agents' sockets: public events), "agents"
    (private notes, the customer's typing) or "customer" (the agent's typing).

    Customer sockets join "all" and "customer", agent sockets "all" and "agents", so a
    public message is one group send that reaches both sides."""
    return f"{schema}.conv.{conversation_id}.{audience}"


def agent_group(*, agent_id: int) -> str:
    # Agents are platform-wide (one workforce across brands), so their group is too.
    return f"agent.{agent_id}"


def user_group(*, user_id: int) -> str:
    """Every socket a user holds, whatever it serves: how revocation reaches them."""
    return f"user.{user_id}"


def brand_queue_group(*, schema: str) -> str:
    return f"{schema}.queue"
