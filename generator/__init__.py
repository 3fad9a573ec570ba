"""ocpi-codegen: generate OpenAPI documents, clients and servers from a YAML transcription of OCPI."""

__version__ = "0.1.0"
