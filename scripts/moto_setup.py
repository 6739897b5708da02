"""Prepares a moto S3 server for the tests: a bucket, an IAM user allowed every S3 action and
its access key, then turns on moto's credential checks so that wrong keys are refused as S3
refuses them. Prints `ACCESS_KEY SECRET_KEY`. Usage: moto_setup.py ENDPOINT BUCKET."""

import json
import sys
import urllib.request

import boto3

endpoint, bucket = sys.argv[1], sys.argv[2]
session = dict(
    endpoint_url=endpoint,
    region_name="us-east-1",
    aws_access_key_id="setup",
    aws_secret_access_key="setup",
)
boto3.client("s3", **session).create_bucket(Bucket=bucket)
iam = boto3.client("iam", **session)
iam.create_user(UserName="testmesh")
iam.put_user_policy(
    UserName="testmesh",
    PolicyName="s3",
    PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    ),
)
key = iam.create_access_key(UserName="testmesh")["AccessKey"]
urllib.request.urlopen(
    urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
    ),
    timeout=10,
).read()
print(key["AccessKeyId"], key["SecretAccessKey"])
