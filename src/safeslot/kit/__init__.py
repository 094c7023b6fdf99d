"""The kernel below every domain: plumbing with no domain logic, importing no domain.

``crypto`` (field encryption and per-month keys), ``sealed_rows`` (re-sealing a table's sealed columns under
another key, for the domain that owns the rows), ``locale`` (the languages and their gettext
catalogs, for the pages and the reminders alike), ``canonical`` (RFC 8785 canonical JSON, for the
log's entries and the record chains), ``errors`` (domain error base classes, each
kind with its status, RFC 9457 problem rendering), ``http`` (the JSON response), ``limits`` (body
size), ``limiter`` and ``ratelimit`` (request rates: the counters, and the one middleware that
counts), ``routing`` (which route a request reaches, for middlewares before routing), ``metrics``
(Prometheus). Domains, the console and the CLI import from here; nothing
here imports from them (tests/test_import_graph.py).
"""
