"""moto's S3 server over real HTTP on a free port, for the S3 half of the storage tests."""
from __future__ import annotations

import os
import uuid

import boto3
from moto.server import ThreadedMotoServer

from tests.postgres import free_port

CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test-key", "AWS_SECRET_ACCESS_KEY": "test-secret",
               "AWS_DEFAULT_REGION": "us-east-1"}


class MotoS3:
    def __init__(self):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self._saved = {}

    def start(self) -> str:
        for name, value in CREDENTIALS.items():  # boto3 in this process and in child processes
            self._saved[name] = os.environ.get(name)
            os.environ[name] = value
        self.server.start()
        return self.endpoint

    def stop(self) -> None:
        self.server.stop()
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def new_bucket(self) -> str:
        name = f"lms-{uuid.uuid4().hex[:12]}"
        boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1").create_bucket(Bucket=name)
        return name
