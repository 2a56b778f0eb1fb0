"""The shared vocabulary: addresses, resources, changes and operations.

Everything else imports this package; it imports nothing of reconciler's.
See docs/glossary.md for the words.
"""
