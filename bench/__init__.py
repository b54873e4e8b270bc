"""Benchmarks (`make bench`, `python -m bench [NAME…]`): each table prints its figures beside a floor
measured in the same run (interleaved repetitions), the ratio, and whether the goals of issue 14
are met; `--json PATH` keeps everything with the machine and its load. See README, "Performance".

- core.py      the instrument: interleaving, rows, goals, printing, JSON
- procs.py     processes under measurement (psutil CPU/RSS, py-spy), databases per trial
- telegram.py  `intake run` vs. a PTB echo bot (echo.py) on the tests' fake Bot API
- mailflow.py  SMTP accept and email → auto-reply vs. aiosmtpd floors (smtpfloor.py)
- pages.py     staff pages and `intake review list` at two sizes (seed.py seeds, cached)
- memory.py    RSS growth with open drafts and submitted cases
- scaleout.py  2 processes vs. 1 on PostgreSQL (answers.py is the load), files across data dirs
- micro.py     encryption, engine step, saved answer, queue memory
- casework.py  precision/recall of casework matching (`python -m bench.casework`, separate)
"""
