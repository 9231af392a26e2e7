"""The e-services HTTP API: the catalogue, a citizen's applications and documents, staff
actions on steps, and complaints; one module each, routes in kaunti/eservices/api_urls.py.

Thin views: parse with an input serializer, call one service or selector, answer with an
output serializer; errors are problem details (kaunti.core.api). Scoping is the pages':
a citizen sees their own applications and complaints (anyone else's is a 404); staff
(second factor or API token) see their departments' (another department's is a 403), and
the services check the right to act on each step again (kaunti.eservices.api.access).
"""
