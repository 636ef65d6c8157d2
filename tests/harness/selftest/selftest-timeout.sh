#!/bin/sh
# Harness self-test: a test that outlives its timeout is killed (expected FAIL).
# dxg-test: timeout=5
sleep 60
