"""The console's web application: one route per view, each answering a page to a browser
and the same data as JSON to `Accept: application/json`.

Flask (with Werkzeug and Jinja2) serves it: they come with moto's server in the `local`
extra already, and their synchronous, thread-per-request model fits boto3's blocking calls.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from botocore.exceptions import BotoCoreError, ClientError
from flask import Flask, Response, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as BaseResponse

from event_stream.tools.cli.console import consumers, publishing, records, stages
from event_stream.tools.cli.console.context import ConsoleContext
from event_stream.tools.cli.console.lake import lake, window_of
from event_stream.tools.cli.console.replay_jobs import ReplayJobs, dry_run
from event_stream.tools.cli.console.security import HEADERS, TOKEN_FIELD, TOKEN_HEADER, Guard
from event_stream.tools.errors import UserError
from event_stream.tools.lambda_model.kinesis_event import iso_time

LIVE_MS = 2000  # how often a page refreshes its live part


def create_app(context: ConsoleContext, guard: Guard) -> Flask:
    """The console for `context`, guarded by `guard`."""
    app = Flask(__name__)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    jobs = ReplayJobs()

    @app.template_filter("pretty")
    def pretty(value: Any) -> str:
        return json.dumps(value, indent=2, ensure_ascii=False, default=str)

    @app.template_filter("event_time")
    def event_time(millis: Any) -> str:
        return iso_time(millis / 1000) if isinstance(millis, int) else ""

    @app.context_processor
    def page_globals() -> dict[str, Any]:
        return {
            "token": guard.token,
            "where": context.target.endpoint or f"AWS ({context.target.region})",
            "live_ms": LIVE_MS if request.method == "GET" else 0,
        }

    @app.before_request
    def guard_request() -> BaseResponse | None:
        refused = guard.host_refused(request.host)
        if refused is None and request.method == "POST":
            token = request.headers.get(TOKEN_HEADER) or request.form.get(TOKEN_FIELD)
            refused = guard.post_refused(request.headers.get("Origin"), token)
        return _error(refused, 403) if refused else None

    @app.after_request
    def harden(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.errorhandler(UserError)
    def user_error(error: UserError) -> BaseResponse:
        return _error(str(error), 400)

    @app.errorhandler(ClientError)
    def aws_error(error: ClientError) -> BaseResponse:
        return _error(f"AWS said: {error}", 502)

    @app.errorhandler(BotoCoreError)
    def aws_unreachable(error: BotoCoreError) -> BaseResponse:
        return _error(f"cannot reach AWS: {error}", 502)

    @app.get("/")
    def stage_list() -> Any:
        return _answer("stages.html", stages.stages(context))

    @app.get("/stages/<stage>")
    def stage_page(stage: str) -> Any:
        return _answer("stage.html", stages.stage(context, stage))

    @app.get("/stages/<stage>/records")
    def records_page(stage: str) -> Any:
        args = request.args.to_dict()
        if args.get("from") == "latest" and not _wants_json():
            # A browser's page shows what arrives from now on, and keeps showing it as
            # it refreshes: LATEST pinned to the moment the page was opened.
            args["from"] = f"at-time:{datetime.now(UTC):%Y-%m-%dT%H:%M:%S.%fZ}"
            return redirect(f"{request.path}?{_query(args)}", 303)
        query = records.RecordQuery.parse(args)
        return _answer("records.html", records.records(context, stage, query), query=args)

    @app.get("/consumers/<function>")
    def consumer_page(function: str) -> Any:
        return _answer("consumer.html", consumers.consumer(context, function))

    @app.get("/consumers/<function>/dead-letters")
    def dead_letter_page(function: str) -> Any:
        return _answer("dead_letters.html", consumers.dead_letter_list(context, function))

    @app.post("/consumers/<function>/dead-letters/redrive")
    def redrive(function: str) -> Any:
        outcome = consumers.redrive(context, function, _field("message"))
        if _wants_json():
            return jsonify(outcome)
        return _answer(
            "dead_letters.html",
            {**consumers.dead_letter_list(context, function), "redriven": outcome["results"]},
        )

    @app.get("/stages/<stage>/lake")
    def lake_page(stage: str) -> Any:
        args = request.args
        window = window_of(args.get("since"), args.get("until"), args.getlist("type"))
        return _answer("lake.html", lake(context, stage, window), query=request.args.to_dict())

    @app.get("/stages/<stage>/replay")
    def replay_page(stage: str) -> Any:
        job_id = request.args.get("job")
        job = jobs.get(job_id) if job_id else None
        if job_id and job is None:
            raise UserError(f"job {job_id!r}: no such replay in this console")
        data = _replay_form(stage)
        data["job"] = job.summary() if job else None
        data["jobs"] = [j.summary() for j in jobs.of_stage(stage)]
        return _answer("replay.html", data)

    @app.post("/stages/<stage>/replay")
    def replay_post(stage: str) -> Any:
        function = _field("function") or ""
        types = request.form.getlist("type") or [_field("type") or ""]
        window = window_of(_field("since"), _field("until"), types)
        if _flag("dry_run"):
            data = _replay_form(stage)
            data["dryRun"] = dry_run(context, stage, function, window)
            return _answer("replay.html", data)
        job = jobs.start(context, stage, function, window, allow_gaps=_flag("allow_gaps"))
        if _wants_json():
            return jsonify(job.summary()), 202
        return redirect(f"/stages/{stage}/replay?job={job.id}", 303)

    @app.get("/stages/<stage>/publish")
    def publish_page(stage: str) -> Any:
        shard, sequence = request.args.get("shard"), request.args.get("sequence")
        text = ""
        if shard and sequence:
            text = publishing.existing_event(context, stage, shard, sequence)
        return _answer("publish.html", {"stage": stage, "event": text})

    @app.post("/stages/<stage>/publish")
    def publish_post(stage: str) -> Any:
        # A script's POST may be the event itself (a JSON body); a page's is a form field.
        text = request.get_data(as_text=True) if request.is_json else _field("event") or ""
        try:
            data = publishing.publish(context, stage, publishing.parse(text))
        except UserError as error:
            if _wants_json():
                raise
            return _answer("publish.html", {"stage": stage, "event": text, "error": str(error)})
        return _answer("publish.html", {**data, "event": text})

    def _replay_form(stage: str) -> dict[str, Any]:
        stack = context.stack(stage)
        return {
            "stage": stage,
            "consumers": stages.consumers_of_stream(context, stack.outputs.get("streamArn", "")),
            "form": {k: request.values.get(k, "") for k in ("function", "since", "until")},
        }

    return app


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def _answer(template: str, data: dict[str, Any], **extra: Any) -> Any:
    """The page for a browser, the data itself for `Accept: application/json`."""
    if _wants_json():
        return jsonify(data)
    return render_template(template, data=data, **extra)


def _error(message: str, status: int) -> BaseResponse:
    if _wants_json():
        response = jsonify({"error": message})
    else:
        response = Response(render_template("error.html", message=message), mimetype="text/html")
    response.status_code = status
    return response


def _field(name: str) -> str | None:
    """A POST's field, from a form or a JSON body."""
    if request.is_json:
        body = request.get_json(silent=True) or {}
        value = body.get(name) if isinstance(body, dict) else None
        return None if value is None else str(value)
    return request.form.get(name) or None


def _flag(name: str) -> bool:
    return (_field(name) or "").lower() in ("1", "true", "on", "yes")


def _query(args: dict[str, str]) -> str:
    return urlencode({k: v for k, v in args.items() if v})
