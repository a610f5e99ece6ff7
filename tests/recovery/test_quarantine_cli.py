"""`relay quarantine list|redrive` as an operator runs them, on a relay that started its own
quarantine connection."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from relay.config import Secret, environment
from relay.edge.app import create_app
from relay.edge.auth import CALLBACK_PATHS
from tests.recovery.conftest import Held, nonce
from tests.security.conftest import MO_TEXT, signed


def _env(held: Held, secret: str) -> dict[str, str]:
    s = held.settings
    return {
        **os.environ,
        **environment("topology", s.topology),
        **environment("quarantine", s.quarantine),
        "RELAY_AMQP_URL": held.amqp_url,
        "RELAY_SECURITY_HMAC_ROUTES": ",".join(CALLBACK_PATHS),
        "RELAY_SECURITY_HMAC_SECRETS": secret,
    }


async def _relay(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "relay", "quarantine", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_relay_quarantines_and_the_cli_lists_then_redrives(
    held: Held, aiohttp_client: Any
) -> None:
    """The real app keeps a refused callback on its own connection; `list` shows it and
    leaves it, `--reason` filters, `redrive` with the right secret ends on one summary."""
    typo = held.with_security(hmac_routes=CALLBACK_PATHS, hmac_secrets=(Secret("typo"),))
    client = await aiohttp_client(create_app(typo))
    sent: list[bytes] = []
    for n in range(50):  # the quarantine connects in the background, as the publisher does
        body = MO_TEXT.replace(b'"01J0"', b'"MO%d"' % n)
        headers = signed("right", body, nonce())
        assert (await client.post("/sms/incoming", data=body, headers=headers)).status == 401
        sent.append(body)
        if await held.depth() > 0:
            break
        await asyncio.sleep(0.1)
    await client.close()  # waits for the quarantine's publishes in flight
    kept = await held.depth()

    code, out, err = await _relay(_env(held, "typo"), "list", "--limit", "5")
    lines = out.splitlines()
    assert code == 0, err
    assert lines[0].split() == ["reason", "route", "type", "sinch", "id", "age"]
    assert lines[1].split()[:3] == ["bad_signature", "/sms/incoming", "mo_text"]
    assert lines[1].split()[3].startswith("id=MO")
    assert lines[-1] == f"relay quarantine list: {min(kept, 5)} shown (left in the queue)"
    code, out, _ = await _relay(_env(held, "typo"), "list", "--reason", "source_not_allowed")
    assert out.splitlines() == ["relay quarantine list: 0 shown (left in the queue)"]

    code, out, err = await _relay(_env(held, "right"), "redrive")
    assert code == 0, err
    assert out.splitlines()[-1] == f"relay quarantine redrive: {kept} published"
    assert "\r" not in err
    assert await held.depth() == 0
    delivered = {m.body for m in await held.delivered()}
    assert len(delivered) == kept
    assert delivered <= set(sent)
