"""Tests of the local cloud emulator, over real HTTP."""
