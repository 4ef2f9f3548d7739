"""Fails at import: the emulator must report an init error, not hang."""
raise RuntimeError("broken at import")


def handler(event, context):
    return {}
