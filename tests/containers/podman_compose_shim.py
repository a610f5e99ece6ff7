"""Debian's podman-compose 1.0.3 with two bugs of its healthcheck translation worked around.

1. `container_to_args` pops "CMD" off `healthcheck.test` in place. The list is shared by
   every replica of a service (a shallow copy of the service) and by every service that
   takes the healthcheck from a YAML anchor, so the second container to be created fails
   with "unknown healthcheck test type [python]". Here each container's description is
   deep-copied before it is translated into `podman run` arguments.
2. A `["CMD", ...]` test becomes `/bin/sh -c` plus the arguments joined with `' '`, which
   splits any argument holding a space (the image's probe, `python -c "import os, ..."`,
   runs `python -c import` and always fails). Here the exec form is handed to podman as
   the JSON array podman 4.3 takes as exec form (`--health-cmd '["python", ...]'`), so it
   runs exactly what the file says, as Docker Compose does.

Nothing else changes.

Run as: python3 podman_compose_shim.py [podman-compose arguments]
"""

from __future__ import annotations

import copy
import json
import sys
from typing import Any

import podman_compose  # type: ignore[import-not-found]

_translate = podman_compose.container_to_args


def _container_to_args(compose: Any, cnt: dict[str, Any], detached: bool = True) -> Any:
    args = _translate(compose, copy.deepcopy(cnt), detached=detached)
    test = (cnt.get("healthcheck") or {}).get("test")
    if isinstance(test, list) and test[:1] == ["CMD"]:
        args[args.index("--healthcheck-command") + 1] = json.dumps(test[1:])
    return args


podman_compose.container_to_args = _container_to_args

if __name__ == "__main__":
    sys.exit(podman_compose.main())
