"""Shipping quotes for checkout, answered through the load balancer."""

import json

# A release is this one line.
VERSION = "1.0.0"


def handler(event, context):
    body = {"version": VERSION, "currency": "EUR", "standard": 4.90, "express": 9.90}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
