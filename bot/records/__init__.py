"""Patient records as JSON, CSV and FHIR: used by `ashi export`, /export and /mydata alike."""
