#!/bin/sh
find /data -mtime +"$2" -delete
