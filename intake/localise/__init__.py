"""Reading answers typed in any of the supported languages: digits, countries, dates, the language itself.

Pure data and functions (no I/O beyond loading Babel/pycountry/lingua data once):
`text` folds text for matching, `countries` turns a country name in any language into an ISO code
(or a short list of candidates), `dates` rewrites a local date into the form the date parser
reads, and `detect` guesses the language of an email body.
"""
