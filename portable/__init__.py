"""What must behave the same on the office's Windows PC and on Linux: stored names, atomic
writes, and ending external programs. Imports nothing of the project, so that every layer
(intake, parsers, outputs, outbox, pipeline) may use it without breaking the one-way layering.
"""
