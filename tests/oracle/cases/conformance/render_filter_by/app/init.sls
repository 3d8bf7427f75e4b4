{% set app = salt['grains.filter_by']({
    'Debian': {'pkg': 'apache2'},
    'RedHat': {'pkg': 'httpd'},
    'default': {'pkg': 'generic'},
}, grain='nonexistent_grain', default='default', merge={'port': 81}) %}
app_service:
  test.succeed_without_changes:
    - comment: {{ app.pkg }} {{ app.port }}
