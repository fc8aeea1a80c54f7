"""Log the type and id of every event in a Kinesis batch."""

import base64
import json


def handler(event, context):
    for record in event["Records"]:
        envelope = json.loads(base64.b64decode(record["kinesis"]["data"]))
        print(json.dumps({"received": envelope["type"], "id": envelope["id"]}))
