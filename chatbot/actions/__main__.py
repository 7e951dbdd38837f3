"""`python -m chatbot.actions [--port 5055]`: the action server (chatbot/actions/server.py)."""

from __future__ import annotations

import sys

from chatbot.actions.server import serve

if __name__ == "__main__":
    serve(sys.argv[1:])
