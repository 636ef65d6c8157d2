#!/bin/sh
# Harness self-test: a non-zero exit status fails the test (expected FAIL).
# dxg-test: timeout=30
echo "this test fails on purpose"
exit 3
