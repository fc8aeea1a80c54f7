"""moto_server with the fixes the CDK development loop needs, as the embedded local AWS.

Run as `python -m event_stream.tools.local_aws_server -H 127.0.0.1 -p PORT` (what `local up`
does). Each fix names the moto behaviour it corrects; tests/unit/test_local_aws_fixes.py
keeps one test per fix so a moto upgrade that changes the behaviour is seen at once.
"""

from __future__ import annotations

import sys
from typing import Any

from moto.cloudformation import models as cloudformation


def _previous_parameter_value(instance: Any, key: str) -> Any:
    """What CloudFormation means by UsePreviousValue: the value given last time, or the
    previous template's default when none was given."""
    if key in instance.parameters:
        return instance.parameters[key]
    template = getattr(instance, "template_dict", None) or {}
    return template.get("Parameters", {}).get(key, {}).get("Default")


def resolve_update_parameters(self: Any, instance: Any, incoming_params: list[dict]) -> dict:
    """Fix 1: moto 5.2.5 looks UsePreviousValue parameters up among the values *given* at
    create time only, so a parameter that took its default (the `BootstrapVersion` every
    CDK stack has) raises KeyError (HTTP 500) on the second `cdk deploy`."""
    parameters = {
        p["ParameterKey"]: p["ParameterValue"] for p in incoming_params if "ParameterValue" in p
    }
    for parameter in incoming_params:
        if parameter.get("UsePreviousValue", False):
            key = parameter["ParameterKey"]
            parameters[key] = _previous_parameter_value(instance, key)
    return parameters


_stack_outputs = cloudformation.Stack.outputs.fget
_stack_exports = cloudformation.Stack.exports.fget


def deleted_stack_outputs(self: Any) -> Any:
    """Fix 2: describing a DELETE_COMPLETE stack (the CDK CLI polls it by id after
    `cdk destroy`) evaluates its outputs, and moto's lazy resource map re-creates every
    resource an output refers to: the deleted stream comes back. A deleted stack has none."""
    return [] if self.status == "DELETE_COMPLETE" else _stack_outputs(self)


def deleted_stack_exports(self: Any) -> Any:
    """Fix 2, for exports (evaluated by the same describe)."""
    return [] if self.status == "DELETE_COMPLETE" else _stack_exports(self)


# (owner, attribute, replacement): what apply_fixes sets, and what the tests patch in.
FIXES = (
    (cloudformation.CloudFormationBackend, "_resolve_update_parameters", resolve_update_parameters),
    (cloudformation.Stack, "outputs", property(deleted_stack_outputs)),
    (cloudformation.Stack, "exports", property(deleted_stack_exports)),
)


def apply_fixes() -> None:
    """Patch moto in this process; idempotent."""
    for owner, attribute, replacement in FIXES:
        setattr(owner, attribute, replacement)


def main(argv: list[str] | None = None) -> None:
    """Start moto_server with the fixes applied (arguments as moto_server's)."""
    apply_fixes()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
