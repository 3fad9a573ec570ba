"""``ocpi-codegen mock-peer``: a generated OCPI server with sample data and switchable faults."""

from generator.mockpeer.faults import ADMIN_PATH, MISBEHAVIOURS, Faults
from generator.mockpeer.peer import DEFAULT_TOKEN, DEFAULT_TOKEN_A, MockPeer, build_mock_peer

__all__ = ["ADMIN_PATH", "DEFAULT_TOKEN", "DEFAULT_TOKEN_A", "MISBEHAVIOURS", "Faults", "MockPeer", "build_mock_peer"]
