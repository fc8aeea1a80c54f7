"""moto fixes for Kinesis event source mappings: the API as AWS answers it, and states that
say what the local AWS's poller does.

Recorded on real AWS (LocalStack's `test_lambda_integration_kinesis.snapshot.json`, read as
data): CreateEventSourceMapping answers 202 with `State: Creating`, `StateTransitionReason:
"User action"` and every field with its default (`MaximumRetryAttempts` -1,
`MaximumRecordAgeInSeconds` -1, `DestinationConfig: {"OnFailure": {}}`, ...); a second mapping
of the same function on the same stream is 409 ResourceConflictException; a mapping on a
stream that does not exist is 400 InvalidParameterValueException "Stream not found: <arn>".
The states ("Event source mapping states", Lambda developer guide): Creating, Enabling and
Updating settle to Enabled, Disabling to Disabled, once the poller has started or stopped
reading; Deleting while it goes.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.awslambda import models as awslambda
from moto.awslambda.exceptions import InvalidParameterValueException, LambdaClientError
from moto.awslambda.responses import LambdaResponse
from moto.kinesis.models import kinesis_backends

from event_stream.tools import arns
from event_stream.tools.lambda_model.event_filter import FilterError, patterns_of

# Fields AWS answers for a Kinesis mapping, with the value it answers when none was given.
KINESIS_DEFAULTS: dict[str, Any] = {
    "BatchSize": 100,
    "BisectBatchOnFunctionError": False,
    "DestinationConfig": {"OnFailure": {}},
    "FunctionResponseTypes": [],
    "MaximumBatchingWindowInSeconds": 0,
    "MaximumRecordAgeInSeconds": -1,
    "MaximumRetryAttempts": -1,
    "ParallelizationFactor": 1,
    "TumblingWindowInSeconds": 0,
}
NO_RECORDS = "No records processed"
SETTLES_TO = {"Creating": None, "Enabling": "Enabled", "Updating": None, "Disabling": "Disabled"}


class ResourceConflictException(LambdaClientError):  # type: ignore[misc]
    code = 409

    def __init__(self, message: str) -> None:
        super().__init__("ResourceConflictException", message)


class MappingStates:
    """Each Kinesis mapping's state as the API answers it, moved on by the poller."""

    def __init__(self) -> None:
        self._states: dict[str, str] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        # True once a poller settles states in this process (the local AWS's server): only
        # then is there anything for CloudFormation to wait for.
        self.polled = False

    def set(self, uuid: str, state: str) -> None:
        with self._changed:
            self._states[uuid] = state
            self._changed.notify_all()

    def wait_settled(self, uuid: str, timeout: float) -> bool:
        """Wait until the poller has settled a new mapping (Creating no more)."""
        with self._changed:
            return self._changed.wait_for(
                lambda: self._states.get(uuid, "Creating") != "Creating", timeout
            )

    def state(self, mapping: Any) -> str:
        with self._lock:
            return self._states.get(mapping.uuid) or ("Enabled" if mapping.enabled else "Disabled")

    def resolved(self, uuid: str) -> str | None:
        """What the mapping's state settles to: Enabled or Disabled (None: unknown here)."""
        mapping = _find(uuid)
        if mapping is None:
            return None
        state = self.state(mapping)
        target = SETTLES_TO.get(state, state)
        return target or ("Enabled" if mapping.enabled else "Disabled")

    def settle(self, uuid: str) -> None:
        """The poller has acted: a transitional state becomes the state it settles to."""
        target = self.resolved(uuid)
        if target in ("Enabled", "Disabled"):
            self.set(uuid, target)

    def forget(self, uuid: str) -> None:
        with self._lock:
            self._states.pop(uuid, None)


STATES = MappingStates()


def _find(uuid: str) -> Any:
    for backends in awslambda.lambda_backends.values():
        for backend in backends.values():
            mapping = backend._event_source_mappings.get(uuid)
            if mapping is not None:
                return mapping
    return None


def _is_kinesis(mapping_or_arn: Any) -> bool:
    arn = mapping_or_arn if isinstance(mapping_or_arn, str) else mapping_or_arn.event_source_arn
    return ":kinesis:" in (arn or "")


def _check_filter_criteria(event_source_arn: str, spec: dict[str, Any]) -> None:
    if _is_kinesis(event_source_arn) and "FilterCriteria" in spec:
        try:
            patterns_of(spec["FilterCriteria"])
        except FilterError as error:
            raise InvalidParameterValueException(str(error)) from None


# How long CloudFormation waits for a new mapping to stabilize here (the poller looks once a
# second; the function's code is fetched and its worker positioned on each shard).
STABILIZE_TIMEOUT = 60.0
_create_mapping = awslambda.LambdaBackend.create_event_source_mapping
_create_from_template = awslambda.EventSourceMapping.create_from_cloudformation_json
_update_mapping = awslambda.LambdaBackend.update_event_source_mapping
_delete_mapping = awslambda.LambdaBackend.delete_event_source_mapping
_mapping_configuration = awslambda.EventSourceMapping.get_configuration
_create_response = LambdaResponse.create_event_source_mapping


def create_mapping_as_aws(self: Any, spec: dict[str, Any]) -> Any:
    """Fix 5: moto 5.2.5 stores any FilterCriteria. Lambda refuses an invalid pattern, and on
    a Kinesis mapping a pattern on anything but `data`, when the mapping is created
    (InvalidParameterValueException "Invalid filter pattern definition.", as recorded).
    Fix 10: moto accepts a mapping on a stream that does not exist, and a second mapping of
    the same function on the same stream (both then deliver: each record runs twice); AWS
    refuses both, as recorded. A new Kinesis mapping starts `Creating`."""
    arn = spec.get("EventSourceArn", "")
    _check_filter_criteria(arn, spec)
    if _is_kinesis(arn):
        streams = kinesis_backends[self.account_id][self.region_name].streams
        if arns.stream_name(arn) not in streams:
            raise InvalidParameterValueException(f"Stream not found: {arn}")
        function = self.get_function(spec.get("FunctionName", ""))
        for existing in self._event_source_mappings.values():
            if existing.event_source_arn == arn and existing.function_arn == function.function_arn:
                raise ResourceConflictException(
                    f'The event source arn (" {arn} ") and function (" '
                    f'{function.function_name} ") provided mapping already exists. Please '
                    f"update or delete the existing mapping with UUID {existing.uuid}"
                )
    mapping = _create_mapping(self, spec)
    if _is_kinesis(mapping):
        STATES.set(mapping.uuid, "Creating")
    return mapping


def update_mapping_as_aws(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
    """Fix 5, for UpdateEventSourceMapping: the new FilterCriteria is checked the same way.
    Fix 10: an update answers Enabling, Disabling or Updating, as AWS does."""
    mapping = self.get_event_source_mapping(uuid)
    if mapping is not None:
        _check_filter_criteria(mapping.event_source_arn, spec)
        was_enabled = mapping.enabled
    updated = _update_mapping(self, uuid, spec)
    if updated is not None and _is_kinesis(updated):
        if "Enabled" in spec and bool(spec["Enabled"]) != was_enabled:
            STATES.set(uuid, "Enabling" if spec["Enabled"] else "Disabling")
        else:
            STATES.set(uuid, "Updating")
    return updated


def delete_mapping_as_aws(self: Any, uuid: str) -> Any:
    """Fix 10: a deleted mapping answers `Deleting` (moto's own response sets it) and its
    state goes with it."""
    mapping = _delete_mapping(self, uuid)
    STATES.forget(uuid)
    return mapping


def mapping_configuration_as_aws(self: Any) -> dict[str, Any]:
    """Fix 10: moto leaves out the fields nobody set (AWS answers each with its default),
    answers `Enabled` at once and "User initiated" (AWS: "User action")."""
    configuration: dict[str, Any] = _mapping_configuration(self)
    if not _is_kinesis(self):
        return configuration
    for key, default in KINESIS_DEFAULTS.items():
        if configuration.get(key) is None:
            configuration[key] = default
    configuration["State"] = STATES.state(self)
    configuration["StateTransitionReason"] = "User action"
    # What the poller last did is in `local status`; the API keeps AWS's first answer.
    configuration.setdefault("LastProcessingResult", NO_RECORDS)
    return configuration


def create_response_202(self: Any) -> tuple[int, dict[str, Any], Any]:
    """Fix 10: CreateEventSourceMapping answers 202 Accepted on AWS (moto: 201)."""
    status, headers, body = _create_response(self)
    if status == 201:
        return 202, {**headers, "status": 202}, body
    return status, headers, body


def create_from_template_as_aws(
    cls: Any,
    /,
    resource_name: str,
    cloudformation_json: dict[str, Any],
    account_id: str,
    region_name: str,
    **kwargs: Any,
) -> Any:
    """Fix 15: CloudFormation reports an `AWS::Lambda::EventSourceMapping` created only once
    it has stabilized, its state Enabled (a deploy user without lambda:GetEventSourceMapping
    gets "Resource of type 'AWS::Lambda::EventSourceMapping' did not stabilize"). moto
    answers at once, while the poller has not yet positioned the mapping on its shards: a
    LATEST mapping then missed events published right after `cdk deploy` returned. The
    create waits until the poller has settled the new mapping's state."""
    mapping = _create_from_template.__func__(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    )
    if STATES.polled and _is_kinesis(mapping):
        STATES.wait_settled(mapping.uuid, STABILIZE_TIMEOUT)
    return mapping


FIXES = (
    (
        awslambda.EventSourceMapping,
        "create_from_cloudformation_json",
        classmethod(create_from_template_as_aws),
    ),
    (awslambda.LambdaBackend, "create_event_source_mapping", create_mapping_as_aws),
    (awslambda.LambdaBackend, "update_event_source_mapping", update_mapping_as_aws),
    (awslambda.LambdaBackend, "delete_event_source_mapping", delete_mapping_as_aws),
    (awslambda.EventSourceMapping, "get_configuration", mapping_configuration_as_aws),
    (LambdaResponse, "create_event_source_mapping", create_response_202),
)
