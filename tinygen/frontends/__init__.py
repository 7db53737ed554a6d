"""Model readers and writers: file formats in, Graph out (and back)."""
