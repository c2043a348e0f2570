"""Run a command at a lower CPU priority: ``python -m tools.lowprio <command> [args …]``.

``make run`` starts the workers that only derive from enrollment's events (notification, reporting) and the
mail/SMS sinks through this, so that on a shared machine web requests and a bulk import go first and the
derived views catch up right after (docker-compose.yml gives the same containers fewer ``cpu_shares``).

Why not just ``nice``: with Linux's scheduler autogroups (on by default on desktop kernels and here), a
process that starts its own session — as each process under honcho does — is weighed as a group, and
``nice`` only ranks processes *within* a group. So this sets both its own niceness and, when it leads its
own session (honcho starts each process that way; devrun ``exec``s it from the shell), that session
group's (``/proc/self/autogroup``); then it replaces itself with the command. Best effort elsewhere.
"""
from __future__ import annotations

import os
import sys

NICENESS = 10


def lower_priority(niceness: int = NICENESS) -> None:
    try:
        os.nice(niceness)
    except (AttributeError, OSError):
        pass
    if os.getsid(0) != os.getpid():
        # Not a session of our own: the group is the caller's (a terminal's), leave it alone. (Starting a
        # session here would also take us out of the process group a supervisor stops.)
        return
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(niceness))
    except OSError:
        pass


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: python -m tools.lowprio <command> [args ...]")
    lower_priority()
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
