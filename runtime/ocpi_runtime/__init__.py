"""The hand-written runtime of every generated package, as one importable, tested package.

``ocpi_runtime.client`` is the client runtime (wire types, errors, transport, discovery, the
credentials handshake); ``ocpi_runtime.server`` is the server runtime, which imports the client's
wire core instead of keeping its own. The generator copies these modules into each generated
package so that packages stay self-contained (``generator/runtime_copy.py`` says how); this
``__init__.py`` and those of the subpackages are never copied.
"""
