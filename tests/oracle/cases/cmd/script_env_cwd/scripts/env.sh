#!/bin/sh
echo "$WHO in $(pwd)"
