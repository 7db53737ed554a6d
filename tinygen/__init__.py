"""tinygen: compile trained neural networks into static C firmware for microcontrollers."""

__version__ = "0.1.0"
