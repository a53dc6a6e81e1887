"""Twilio for the running demo: the REST stand-in and the people who answer a "call back".

``make run`` (scripts/run.sh) starts this beside the web app and the worker and points the app
at it (``TWILIO_API_BASE_URL``), so "Call back" on the worklist works end to end for as long as
the demo runs: the worker's ring job creates the call here, and within a second the emulated
supervisor and caller (``[click_to_call]`` shares, no REST faults) answer over the app's real,
signed webhooks (``ClickToCallPlayer``). Texts the app sends (follow-ups, the "resolved now?"
check) are accepted and go nowhere.

    python -m emulator.demo_twilio --port 5001 --app http://127.0.0.1:5000 \\
        --account-sid AC… --auth-token …
"""
from __future__ import annotations

import argparse
import datetime as dt
import signal
import time

from .click_to_call import ClickToCallPlayer
from .scenario import Scenario
from .transport import Target
from .twilio_rest import FakeTwilioRest

POLL_S = 0.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Twilio's REST API and the call-back's people, for the demo.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--app", required=True, help="the app's base URL, as its PUBLIC_BASE_URL says")
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rest = FakeTwilioRest(args.account_sid, args.auth_token, seed=args.seed, port=args.port)
    rest.start()
    scenario = Scenario(seed=args.seed, account_sid=args.account_sid, auth_token=args.auth_token)
    player = ClickToCallPlayer(scenario, rest, Target.http(args.app))
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    print(f"emulated Twilio on {rest.url}, calling back through {args.app}", flush=True)
    try:
        while not stopping:
            try:
                player.play(dt.datetime.now(dt.timezone.utc))
            except Exception as exc:   # the app restarting: the call is played again on the next look
                print(f"emulated Twilio: {exc!r}", flush=True)
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        pass
    finally:
        rest.stop()


if __name__ == "__main__":
    main()
