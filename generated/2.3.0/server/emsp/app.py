"""Your OCPI 2.3.0 EMSP server. This file is yours: ocpi-codegen never overwrites it.

Run it with ``uvicorn app:app``.
"""

from __future__ import annotations

from handlers import HANDLERS
from ocpi_server_emsp_v2_3_0 import ServerSettings, create_app

app = create_app(ServerSettings.from_env(), handlers=HANDLERS)
