#!/usr/bin/env bash
# The cookbook's loop on the embedded local AWS: start it, bootstrap and deploy a stage's
# event stream and the example stream processor (examples/consumer/) with the real CDK CLI,
# publish one event through the deployed publisher code, read it back from the stream, show
# the stream processor's log line for it and the event kept in the stage's lake (S3, via
# Firehose), then destroy both stacks and stop the local AWS.
# Whatever happens, nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE=${STAGE:-dev}
PORT=${PORT:-4566}
PY=.venv/bin/python
CDK=node_modules/.bin/cdk
export AWS_ENDPOINT_URL=http://localhost:$PORT AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true NODE_NO_WARNINGS=1
OUT=$(mktemp -d)

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
# Print what the command prints once it prints something; after 30 s, fail with the message.
show_within_30s() {
  local what=$1 out=""
  shift
  for _ in $(seq 1 30); do
    out=$("$@" 2>/dev/null || true)
    [ -n "$out" ] && { echo "$out"; return 0; }
    sleep 1
  done
  echo "$what within 30 s" >&2
  exit 1
}
cleanup() {
  step "Destroying stacks cncb-stream-processor-$STAGE, cncb-event-stream-$STAGE; stopping the local AWS"
  (cd examples/consumer && "../../$CDK" destroy --context stage="$STAGE" --force --output "$OUT/consumer" >/dev/null 2>&1) || true
  $CDK destroy --context stage="$STAGE" --force --output "$OUT" >/dev/null 2>&1 || true
  $PY -m event_stream local down
  rm -rf "$OUT"
}

step "Starting the embedded local AWS (moto_server) on localhost:$PORT"
$PY -m event_stream local up --port "$PORT"
trap cleanup EXIT

step "cdk bootstrap aws://123456789012/us-east-1"
$CDK bootstrap aws://123456789012/us-east-1 --output "$OUT" 2>&1 | tail -n 1

step "cdk deploy --context stage=$STAGE"
$CDK deploy --context stage="$STAGE" --method=direct --require-approval never --output "$OUT" 2>&1 \
  | grep -E '^✅|^Outputs:|^cncb-event-stream-[^ ]+\.[A-Za-z]+ = ' || true

step "cdk deploy --context stage=$STAGE of the stream processor (examples/consumer/)"
(cd examples/consumer && "../../$CDK" deploy --context stage="$STAGE" --method=direct \
  --require-approval never --output "$OUT/consumer" 2>&1 | grep -E '^✅' || true)

step "Publishing {\"type\":\"thing-created\"} through the deployed publisher"
$PY -m event_stream invoke --stage "$STAGE" --data '{"type":"thing-created"}'

step "Reading the stream back (every shard, decoded envelopes)"
$PY -m event_stream tail --stage "$STAGE"

step "The publisher's logs"
$PY -m event_stream logs --stage "$STAGE"

step "Outputs and exports other stacks import"
$PY -m event_stream info --stage "$STAGE"

step "The stream processor's log line for it (delivered by the local AWS's poller)"
FUNCTION=cncb-stream-processor-$STAGE-listener
show_within_30s "the stream processor logged nothing" \
  sh -c "$PY -m event_stream logs --function $FUNCTION | grep 'thing created'"
$PY -m event_stream local status

step "The event kept in the stage's lake (Firehose -> S3, after the dev stage's 5 s buffer)"
show_within_30s "the lake kept nothing" $PY -m event_stream lake --stage "$STAGE"
