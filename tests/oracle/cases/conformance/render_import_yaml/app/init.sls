{% import_yaml 'app/defaults.yaml' as defaults %}
{% set app = salt['grains.filter_by']({'default': {'port': 80}}, grain='nonexistent_grain', merge=defaults) %}
app_service:
  test.succeed_without_changes:
    - comment: {{ defaults.name }} {{ app.port }}
