"""A small Python function for the emulator's Runtime API tests, run by AWS's own runtime
interface client (`python3 -m awslambdaric app.handler`)."""
import json
import os
import time

STARTED = time.time()
COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    path = event.get("rawPath", "")
    query = event.get("queryStringParameters") or {}
    if path.endswith("/boom"):
        raise ValueError("boom from python")
    if path.endswith("/sleep"):
        time.sleep(float(query.get("s", "1")))
    if path.endswith("/exit"):
        os._exit(3)
    print(f"python handler served {path}")
    body = {
        "runtime": "python",
        "path": path,
        "requestId": context.aws_request_id,
        "functionName": context.function_name,
        "remainingMs": context.get_remaining_time_in_millis(),
        "runtimeApi": os.environ.get("AWS_LAMBDA_RUNTIME_API"),
        "taskRoot": os.environ.get("LAMBDA_TASK_ROOT"),
        "pid": os.getpid(),
        "count": COUNT,
        "claims": (event.get("requestContext", {}).get("authorizer") or {}).get("jwt", {}).get("claims"),
        "event": event if "rawPath" not in event else None,
    }
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def raw(event, context):
    """Invoked directly (not through HTTP): echoes the event."""
    return {"echo": event, "requestId": context.aws_request_id}
