"""Tests of the ledighed backend."""
