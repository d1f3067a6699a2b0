"""Local tooling: `make run` (the whole API on one machine), `make token`, `make dataset`.

Not part of the Lambda layer: nothing in functions/ or shared/ imports it.
"""
