"""Your OCPI 2.2.1 CPO server. This file is yours: ocpi-codegen never overwrites it.

Run it with ``uvicorn app:app``.
"""

from __future__ import annotations

from handlers import HANDLERS
from ocpi_server_cpo_v2_2_1 import ServerSettings, create_app

app = create_app(ServerSettings.from_env(), handlers=HANDLERS)
