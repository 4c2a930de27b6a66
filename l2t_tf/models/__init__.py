"""Backbones naming their feature points, and the layers they are built from."""
