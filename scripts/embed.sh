#!/bin/sh
# embed.sh NAME < FILE > FILE.c : turn a data file into a NUL-terminated C
# string `const char NAME[]` (used to compile the default rules into the
# binary so that the agent is one file).
name=$1
printf 'const char %s[] = {\n' "$name"
od -An -v -tx1 | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
printf '0x00};\n'
