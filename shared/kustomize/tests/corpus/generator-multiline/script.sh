#!/bin/sh
echo "<b>hi</b> & bye"
	done
