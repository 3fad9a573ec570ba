"""The client runtime is the package ``ocpi_runtime.client`` (``runtime/ocpi_runtime/client``), imported as is."""
