"""Server runtime, copied into every scaffold's ``ocpi_server`` package (its client sits in ``.client``)."""
