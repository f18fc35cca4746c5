"""A feed update as load → decide → apply.

`prepare` does the CPU work of each item (keys, canonical URLs, text, hashes, fingerprints,
compressed revision text) in the parse worker process; `decide` compares the prepared document
with the feed's stored state, loaded in one read, and returns a typed intent without any I/O;
`store.entries.apply_entries` writes the intent in one short transaction with executemany.
"""
