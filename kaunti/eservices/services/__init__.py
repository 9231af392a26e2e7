"""Every write of the e-services app, one module per part: catalogue, applications,
workflow, issuing, settlement, complaints. Each public function owns its transaction and
writes one audit record."""
