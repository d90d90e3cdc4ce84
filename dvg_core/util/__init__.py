"""Helpers every layer may use: argument validation, device choice, autodiff."""
