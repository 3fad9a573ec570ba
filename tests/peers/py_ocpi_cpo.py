"""A CPO built on extrawest-ocpi (py_ocpi, from PyPI), the way its README shows: a CRUD class over a
list of Locations (honouring the date window and the page), an authenticator with one token C. The
library is not our code: ``scripts/conformance_vs_py_ocpi.sh`` runs our conformance runner on it.
Not imported by the test suite (it needs that library, installed in its own venv)."""

from datetime import datetime, timezone

from py_ocpi import get_application
from py_ocpi.core.authentication.authenticator import Authenticator
from py_ocpi.core.crud import Crud
from py_ocpi.core.enums import ModuleID, RoleEnum
from py_ocpi.modules.versions.enums import VersionNumber

LOCATIONS = [
    {
        "country_code": "US",
        "party_id": "NON",
        "id": f"LOC{n}",
        "publish": True,
        "address": "Main street 1",
        "city": "Town",
        "country": "USA",
        "coordinates": {"latitude": "52.370216", "longitude": "4.895168"},
        "time_zone": "Europe/Amsterdam",
        "evses": [
            {
                "uid": f"E{n}",
                "status": "AVAILABLE",
                "connectors": [
                    {
                        "id": "1",
                        "standard": "IEC_62196_T2",
                        "format": "SOCKET",
                        "power_type": "AC_3_PHASE",
                        "max_voltage": 230,
                        "max_amperage": 32,
                        "last_updated": f"2024-01-01T00:00:{n:02d}Z",
                    }
                ],
                "last_updated": f"2024-01-01T00:00:{n:02d}Z",
            }
        ],
        "last_updated": f"2024-01-01T00:00:{n:02d}Z",
    }
    for n in range(12)
]


def _in_window(stamp: str, filters: dict) -> bool:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    start, end = filters.get("date_from"), filters.get("date_to")
    if isinstance(start, datetime) and when < start.astimezone(timezone.utc):
        return False
    return not (isinstance(end, datetime) and when >= end.astimezone(timezone.utc))


class MyCrud(Crud):
    @classmethod
    async def get(cls, module, role, id, *args, **kwargs):
        return next((loc for loc in LOCATIONS if loc["id"] == id), None)

    @classmethod
    async def list(cls, module, role, filters, *args, **kwargs):
        offset, limit = filters.get("offset", 0), filters.get("limit", 50)
        chosen = [loc for loc in LOCATIONS if _in_window(loc["last_updated"], filters)]
        page = chosen[offset : offset + limit]
        return page, len(chosen), offset + limit >= len(chosen)

    @classmethod
    async def create(cls, module, role, data, *args, **kwargs):
        return data

    @classmethod
    async def update(cls, module, role, data, id, *args, **kwargs):
        return data

    @classmethod
    async def delete(cls, module, role, id, *args, **kwargs):
        return None

    @classmethod
    async def do(cls, module, role, action, *args, data=None, **kwargs):
        return None


class MyAuth(Authenticator):
    @classmethod
    async def get_valid_token_c(cls):
        return ["peer-token-c"]

    @classmethod
    async def get_valid_token_a(cls):
        return ["peer-token-a"]


app = get_application(
    version_numbers=[VersionNumber.v_2_2_1],
    roles=[RoleEnum.cpo],
    crud=MyCrud,
    modules=[ModuleID.credentials_and_registration, ModuleID.locations],
    authenticator=MyAuth,
)
