"""Raw HTTP responses as WARC/1.1 files: the web archives' standard, readable by any WARC tool."""
