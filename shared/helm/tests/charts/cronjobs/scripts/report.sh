#!/bin/sh
echo "report for $TARGET"
