"""What tinygen shows people: model summaries, memory plans, profiles."""
