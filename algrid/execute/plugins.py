"""Plugin loading for the execution layer: the runner and every worker process load the same plugins.

Why a module of its own: the runner, the worker, the zygote and the CLI all need it, and none of them should import
the others for it. What is configured (entry points, ALGRID_PLUGINS) is algrid.plugins' business.
"""

from __future__ import annotations


def load_plugins() -> list[str]:
    """Load the configured plugins (entry points, ALGRID_PLUGINS; see algrid.plugins) in this process.

    Runs in the parent and in every worker, so a strategy registered by a plugin exists in both.
    """
    from algrid import plugins

    return [p.ref for p in plugins.load_configured()]
