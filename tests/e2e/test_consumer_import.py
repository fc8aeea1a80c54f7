"""Cross-stack import, proven: a consumer stack deploys against the stage's exports."""

from __future__ import annotations

from tests.e2e.conftest import ROOT

STAGE = "e2e-import"
CONSUMER_APP = ROOT / "examples" / "consumer"


def test_consumer_import_value_resolves_to_the_stream(cloud):
    cloud.deploy(STAGE)
    try:
        cloud.deploy(STAGE, cwd=CONSUMER_APP)
        try:
            arn = next(
                o["OutputValue"]
                for o in cloud.client("cloudformation").describe_stacks(
                    StackName=f"cncb-event-stream-{STAGE}"
                )["Stacks"][0]["Outputs"]
                if o["OutputKey"] == "streamArn"
            )
            mappings = cloud.client("lambda").list_event_source_mappings(
                FunctionName=f"cncb-consumer-{STAGE}-listener"
            )["EventSourceMappings"]
            assert [m["EventSourceArn"] for m in mappings] == [arn]
            iam = cloud.client("iam")
            role = (
                cloud.client("lambda")
                .get_function_configuration(FunctionName=f"cncb-consumer-{STAGE}-listener")["Role"]
                .rsplit("/", 1)[-1]
            )
            granted = [
                statement["Resource"]
                for name in iam.list_role_policies(RoleName=role)["PolicyNames"]
                for statement in iam.get_role_policy(RoleName=role, PolicyName=name)[
                    "PolicyDocument"
                ]["Statement"]
                if "kinesis:GetRecords" in statement["Action"]
            ]
            assert granted == [arn]
        finally:
            cloud.destroy(STAGE, cwd=CONSUMER_APP)
    finally:
        cloud.destroy(STAGE)
