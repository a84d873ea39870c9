#!/bin/sh
eval "$(cat)"
echo "$greeting"
