"""The render: one sequence from program text to figures, trace and status."""
