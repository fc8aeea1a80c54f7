"""moto fixes for Lambda functions: their configuration, their code, and Invoke."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, unquote, urlparse

import flask
from flask import has_request_context
from moto.awslambda import models as awslambda
from moto.awslambda.exceptions import LambdaClientError, UnknownFunctionException
from moto.awslambda.responses import LambdaResponse
from moto.moto_api._internal import urls as moto_api_urls

_create_function = awslambda.LambdaFunction.create_from_cloudformation_json.__func__
_update_function = awslambda.LambdaFunction.update_from_cloudformation_json.__func__
_function_configuration = awslambda.LambdaFunction.get_configuration


def create_function_with_logging_config(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 4: moto 5.2.5 drops a function's LoggingConfig from CloudFormation (and never
    answers one), so the code run here could not know its ApplicationLogLevel: a stage
    deployed at DEBUG logged at INFO. The fix keeps the template's LoggingConfig."""
    function = _create_function(cls, *args, **kwargs)
    function.logging_config = _properties(args, kwargs).get("LoggingConfig")
    return function


def update_function_with_logging_config(cls: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 4, for a stack update: the new template's LoggingConfig replaces the old one."""
    function = _update_function(cls, *args, **kwargs)
    function.logging_config = _properties(args, kwargs).get("LoggingConfig")
    return function


def function_configuration_with_logging_config(self: Any, *args: Any, **kwargs: Any) -> Any:
    """Fix 4, for GetFunction and GetFunctionConfiguration."""
    configuration = _function_configuration(self, *args, **kwargs)
    if getattr(self, "logging_config", None):
        configuration["LoggingConfig"] = self.logging_config
    return configuration


def _properties(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    template = kwargs.get("cloudformation_json") or next(a for a in args if isinstance(a, dict))
    return dict(template.get("Properties", {}))


# Where the local AWS serves a function's code (under moto's own API prefix, which moto's
# server routes by path whatever the request's credentials).
CODE_PATH = "/moto-api/local-aws/lambda-code"
_get_code = awslambda.LambdaFunction.get_code


def code_location_served(self: Any) -> dict[str, Any]:
    """Fix 8: moto 5.2.5 answers GetFunction with a `Code.Location` on an S3 host that nothing
    serves, so no caller (our invoker, the AWS CLI, a peer's tests) can download the code of
    a function, however it was created. On AWS the location is a pre-signed URL of the zip
    ("GetFunction": "a presigned URL that you can use to download the deployment package").
    Here it is this server's own URL of the zip moto keeps, for any zip function."""
    answer: dict[str, Any] = _get_code(self)
    code = answer.get("Code") or {}
    if code.get("RepositoryType") == "S3" and has_request_context():
        version = "$LATEST" if self.version in (None, "$LATEST") else str(self.version)
        code["Location"] = (
            f"{flask.request.host_url.rstrip('/')}{CODE_PATH}/"
            f"{self.account_id}/{self.region}/{quote(self.function_name)}/{quote(version)}"
        )
    return answer


def serve_code(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
    """Fix 8, the server's side: the zip of `<account>/<region>/<function>/<version>`."""
    path = urlparse(full_url).path.removeprefix(CODE_PATH + "/")
    try:
        account, region, name, version = (unquote(part) for part in path.split("/"))
        function = awslambda.lambda_backends[account][region].get_function(
            name, None if version == "$LATEST" else version
        )
    except (ValueError, KeyError, UnknownFunctionException):
        return 404, {"Content-Type": "text/plain"}, b"no such function code"
    return 200, {"Content-Type": "application/zip"}, function.code_bytes


# The local AWS's Invoke API (`InvokeApi.answer`), once the server has set it.
_invoke_api: list[Callable[[str, str | None, Any, Any], Any]] = []
_invoke = LambdaResponse.invoke


def serve_invocations(answer: Callable[[str, str | None, Any, Any], Any]) -> None:
    """Fix 9, the server's side: Invoke requests go to `answer(function_arn, qualifier,
    payload, headers)`, which returns an object with `status`, `headers` and `body`."""
    _invoke_api[:] = [answer]


def invoke_served(self: Any) -> tuple[int, dict[str, str], Any]:
    """Fix 9: moto 5.2.5 runs an invoked function only through Docker: with no engine, Invoke
    answers 200 with FunctionError "Handled" and the payload "error running docker", an
    asynchronous invocation answers 202 and nothing runs, and the docker line lands in the
    function's log group. The local AWS answers Invoke itself, running the function's code
    (`InvokeApi`); moto still checks that the function exists (404 as Lambda answers)."""
    if not _invoke_api:
        return _invoke(self)  # type: ignore[no-any-return]
    name = unquote(self.path.rsplit("/", 2)[-2])
    qualifier = self._get_param("Qualifier") or None  # the query string boto3 sends
    function = self.backend.get_function(name, qualifier)
    answer = _invoke_api[0](function.function_arn, qualifier, self.body, self.headers)
    # moto takes the status from the headers, not from the tuple.
    return answer.status, {**answer.headers, "status": str(answer.status)}, answer.body


_client_error = LambdaClientError.__init__


def lambda_error_of_the_user(self: Any, error: str, message: str) -> None:
    """Fix 13: Lambda's error answers carry `"Type": "User"` beside the message (as recorded
    on real AWS for every refused call: a duplicate mapping, a missing stream, ...); moto's
    carry only the message."""
    _client_error(self, error, message)
    self.description = json.dumps({"Type": "User", "message": message, "__type": error})


FIXES = (
    (
        awslambda.LambdaFunction,
        "create_from_cloudformation_json",
        classmethod(create_function_with_logging_config),
    ),
    (
        awslambda.LambdaFunction,
        "update_from_cloudformation_json",
        classmethod(update_function_with_logging_config),
    ),
    (awslambda.LambdaFunction, "get_configuration", function_configuration_with_logging_config),
    (awslambda.LambdaFunction, "get_code", code_location_served),
    (LambdaResponse, "invoke", invoke_served),
    (LambdaClientError, "__init__", lambda_error_of_the_user),
    (
        moto_api_urls,
        "url_paths",
        {**moto_api_urls.url_paths, "{0}" + CODE_PATH + "/(?P<code>.+)$": serve_code},
    ),
)
