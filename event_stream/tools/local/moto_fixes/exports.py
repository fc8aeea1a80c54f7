"""moto fix for CloudFormation exports another stack imports: they cannot go.

AWS ("Exporting stack output values", CloudFormation user guide): "You can't delete a stack
if another stack references one of its outputs", and "you can't modify or remove an output
value that is referenced by another stack". The refusal is the stack's failure, with the
reason CloudFormation gives: "Export <name> cannot be deleted as it is in use by <stack>"
(a delete: DELETE_FAILED; an update that removes the export: rolled back), or "... cannot be
updated as it is in use by ..." (an update that changes its value).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import yaml  # moto's own dependency
from moto.cloudformation import models as cloudformation

_delete_stack = cloudformation.CloudFormationBackend.delete_stack
_update_stack = cloudformation.CloudFormationBackend.update_stack


def imported_names(node: Any) -> Iterator[str]:
    """Every export name a template imports with a literal `Fn::ImportValue`."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::ImportValue" and isinstance(value, str):
                yield value
            else:
                yield from imported_names(value)
    elif isinstance(node, list):
        for item in node:
            yield from imported_names(item)


def importer_of(backend: Any, export_name: str, exporter_id: str) -> str | None:
    """A live stack, other than the exporter, that imports `export_name`."""
    for stack in backend.stacks.values():
        if stack.stack_id == exporter_id or stack.status.startswith("DELETE_COMPLETE"):
            continue
        if export_name in set(imported_names(stack.template_dict)):
            return str(stack.name)
    return None


def _stack(backend: Any, name_or_id: str) -> Any:
    if name_or_id in backend.stacks:
        return backend.stacks[name_or_id]
    return next((s for s in backend.stacks.values() if s.name == name_or_id), None)


def _fail(stack: Any, status: str, reason: str, *, started: str, ended: str) -> None:
    stack._add_stack_event(started, resource_status_reason="User Initiated")
    stack._add_stack_event(ended, resource_status_reason=reason)
    stack.status = status
    stack.status_reason = reason


def delete_stack_keeping_exports_in_use(self: Any, name_or_stack_id: str) -> None:
    """Fix 14: moto 5.2.5 deletes a stack whose export another stack imports, and the
    importers then fail (`ResourceNotFoundException` on the stream they read). AWS refuses:
    the stack ends DELETE_FAILED, everything in it kept."""
    stack = _stack(self, name_or_stack_id)
    if stack is not None:
        for export in stack.exports:
            importer = importer_of(self, export.name, stack.stack_id)
            if importer:
                reason = f"Export {export.name} cannot be deleted as it is in use by {importer}"
                _fail(
                    stack,
                    "DELETE_FAILED",
                    reason,
                    started="DELETE_IN_PROGRESS",
                    ended="DELETE_FAILED",
                )
                return
    _delete_stack(self, name_or_stack_id)


def update_stack_keeping_exports_in_use(
    self: Any, name: str, template: str, *args: Any, **kwargs: Any
) -> Any:
    """Fix 14, for an update: an export in use that the new template removes, or exports
    under a literal value that differs, rolls the update back; otherwise the stack's exports
    after the update are the ones other stacks can import."""
    stack = self.get_stack(name)
    new_outputs = _template(template).get("Outputs") or {}
    new_exports = {
        output["Export"]["Name"]: output.get("Value")
        for output in new_outputs.values()
        if isinstance(output.get("Export", {}).get("Name"), str)
    }
    for export in stack.exports:
        importer = importer_of(self, export.name, stack.stack_id)
        if not importer:
            continue
        if export.name not in new_exports:
            verb = "deleted"
        elif isinstance(new_exports[export.name], str) and new_exports[export.name] != export.value:
            verb = "updated"
        else:
            continue
        reason = f"Export {export.name} cannot be {verb} as it is in use by {importer}"
        _fail(
            stack,
            "UPDATE_ROLLBACK_COMPLETE",
            reason,
            started="UPDATE_IN_PROGRESS",
            ended="UPDATE_ROLLBACK_COMPLETE",
        )
        return stack
    before = {export.name for export in stack.exports}
    updated = _update_stack(self, name, template, *args, **kwargs)
    # moto registers a stack's exports only when it is created: an update's new exports
    # could not be imported, and removed ones could still be.
    for gone in before - {export.name for export in updated.exports}:
        self.exports.pop(gone, None)
    for export in updated.exports:
        self.exports[export.name] = export
    return updated


def _template(body: str) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except ValueError:  # a YAML template
        parsed = yaml.safe_load(body)
    return parsed if isinstance(parsed, dict) else {}


FIXES = (
    (cloudformation.CloudFormationBackend, "delete_stack", delete_stack_keeping_exports_in_use),
    (cloudformation.CloudFormationBackend, "update_stack", update_stack_keeping_exports_in_use),
)
