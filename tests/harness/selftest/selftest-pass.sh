#!/bin/sh
# Harness self-test: a clean test passes.
# dxg-test: timeout=30
echo fine
