"""`make bench`: throughput, latency and dispatch figures against the local Bot API emulator.

See README.md, "Performance". Timing lives here, never in the tests.
"""
