"""Your handlers. This file is yours: ocpi-codegen never overwrites it.

Every module interface already works on the embedded store; subclass a generated handler class
and override a method to change what it does, e.g.::

    class MyTokens(TokensReceiverHandlers):
        async def put(self, ctx, country_code, party_id, token_uid, body, type=None):
            ...  # your logic, then maybe: return await super().put(ctx, ...)

    HANDLERS = Handlers(tokens_receiver=MyTokens())
"""

from __future__ import annotations

from ocpi_server_hub_v1_1.handlers import Handlers

HANDLERS = Handlers()
