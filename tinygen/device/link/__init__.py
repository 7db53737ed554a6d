"""The serial link to a tinygen firmware: framing, the client, and finding a board's port.

docs/protocol.md is the specification; firmware/link/ is the C side of the same protocol.
"""
