"""Server runtime, copied into every scaffold's generated package (``ocpi_server_<role>_v<version>``) (its client sits in ``.client``)."""
