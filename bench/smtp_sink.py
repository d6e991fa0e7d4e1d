"""A mail server for bench/notify.py in a process of its own (aiosmtpd), as a real relay would be.

Commands on stdin, one per line, each answered with one JSON line on stdout:
`stats` (messages accepted, distinct Message-IDs, this process's CPU seconds), `reset`, `dump PATH`
(the accepted messages' envelopes and bytes, as JSON, for the bare loop to send again), `quit`.
"""
from __future__ import annotations

import json
import re
import sys
import threading
import time

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID: *(.+?)\r?$", re.IGNORECASE | re.MULTILINE)


class Sink:
    def __init__(self):
        self.lock = threading.Lock()
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 OK"


def main(port: int) -> None:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    print(json.dumps({"ready": port}), flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        with sink.lock:
            if command == "stats":
                ids = {m.group(1) for _f, _t, content in sink.messages if (m := MESSAGE_ID.search(content))}
                answer = {"accepted": len(sink.messages), "message_ids": len(ids), "cpu": time.process_time()}
            elif command == "reset":
                sink.messages.clear()
                answer = {"ok": True}
            elif command == "dump":
                with open(arg, "w") as fh:
                    json.dump([[f, t, c.decode("utf-8", "surrogateescape")] for f, t, c in sink.messages], fh)
                answer = {"ok": True}
            else:
                break
        print(json.dumps(answer), flush=True)
    controller.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]))
